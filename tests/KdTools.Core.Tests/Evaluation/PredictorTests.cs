using KdTools.Core.Data;
using KdTools.Core.Evaluation;
using KdTools.Core.Models;
using KdTools.Core.Tests.Data;

namespace KdTools.Core.Tests.Evaluation;

/// <summary>Predictions from image files match what the dataset reader makes of the same files; bad files do not stop the rest.</summary>
public sealed class PredictorTests : IDisposable
{
    private const int Side = 8;
    private readonly TempFolder _temp = new();
    private readonly ClassifierNet _model = ArchitectureRegistry.Create("resnet8", 3, seed: 4);

    public void Dispose()
    {
        _model.Dispose();
        _temp.Dispose();
    }

    [Fact]
    public void Files_are_predicted_exactly_as_the_image_folder_reader_reads_them()
    {
        var testFiles = WriteImageFolder();
        using var dataset = ImageFolderReader.Read(_temp.Path, Side);
        var settings = Settings(dataset.Mean, dataset.Std, batchSize: 2, top: 2);

        var fromFiles = Predictor.PredictFiles(settings, testFiles, Side).ToList();
        var fromSplit = Predictor.PredictSet(settings, dataset.Test).ToList();

        Assert.Equal(testFiles.Count, fromFiles.Count);
        Assert.All(fromFiles, outcome => Assert.Null(outcome.Error));
        for (int i = 0; i < testFiles.Count; i++)
        {
            var file = fromFiles[i].Prediction!;
            Assert.Equal((i, testFiles[i]), (file.Index, file.File));
            Assert.Equal(fromSplit[i].Classes, file.Classes);
            Assert.Equal(fromSplit[i].Probabilities, file.Probabilities);
            Assert.Null(file.Label);
        }
        Assert.Equal(dataset.Test.Labels.data<long>().ToArray(), fromSplit.Select(p => p.Label!.Value));
    }

    [Fact]
    public void An_unreadable_file_yields_its_error_and_the_others_are_still_predicted_in_order()
    {
        var files = WriteImageFolder();
        var broken = Path.Combine(_temp.Path, "broken.png");
        File.WriteAllBytes(broken, [0x89, (byte)'P', (byte)'N', (byte)'G', 1, 2, 3]);
        var missing = Path.Combine(_temp.Path, "missing.png");
        var inputs = new List<string> { files[0], broken, files[1], missing, files[2] };

        var outcomes = Predictor.PredictFiles(Settings([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f], batchSize: 2, top: 3), inputs, Side).ToList();

        Assert.Equal([0, 1, 2, 3, 4], outcomes.Select(o => o.Index));
        Assert.Equal(inputs, outcomes.Select(o => o.File));
        Assert.Equal(KdErrorIds.DatasetFileCorrupt, outcomes[1].Error!.ErrorId);
        Assert.Equal(KdErrorIds.DatasetFileMissing, outcomes[3].Error!.ErrorId);
        foreach (var ok in new[] { 0, 2, 4 })
        {
            var prediction = outcomes[ok].Prediction!;
            Assert.Equal(3, prediction.Classes.Distinct().Count());
            Assert.Equal(prediction.Probabilities.OrderDescending(), prediction.Probabilities);
            Assert.InRange(prediction.Probabilities.Sum(), 0.999, 1.001); // all 3 classes: the whole distribution
        }
    }

    [Fact]
    public void Top_is_capped_at_the_class_count_and_files_need_an_rgb_model()
    {
        var files = WriteImageFolder();

        var outcome = Predictor.PredictFiles(Settings([0.5f, 0.5f, 0.5f], [0.25f, 0.25f, 0.25f], batchSize: 8, top: 10), files, Side).First();
        var gray = Assert.Throws<KdException>(() => Predictor.PredictFiles(Settings([0.5f], [0.25f], 8, 5), files, Side).ToList());

        Assert.Equal(3, outcome.Prediction!.Classes.Length);
        Assert.Equal(KdErrorIds.InputShapeMismatch, gray.ErrorId);
    }

    private PredictionSettings Settings(float[] mean, float[] std, int batchSize, int top) =>
        new() { Model = _model, Mean = mean, Std = std, BatchSize = batchSize, Top = top };

    /// <summary>An image folder of 12-pixel random images (resized to <see cref="Side"/> on reading); returns its test files in reading order.</summary>
    private List<string> WriteImageFolder()
    {
        var random = new Random(3);
        var testFiles = new List<string>();
        foreach (var split in new[] { "train", "test" })
            foreach (var label in new[] { "a", "b", "c" })
            {
                var folder = _temp.Combine(split, label);
                Directory.CreateDirectory(folder);
                for (int i = 0; i < 2; i++)
                {
                    var pixels = new byte[12 * 12 * 3];
                    random.NextBytes(pixels);
                    var file = Path.Combine(folder, $"{label}{i}.png");
                    ImageFiles.WritePng(file, 12, 12, 3, pixels);
                    if (split == "test") testFiles.Add(file);
                }
            }
        return testFiles;
    }
}
