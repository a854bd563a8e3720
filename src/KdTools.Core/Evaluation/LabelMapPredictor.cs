using KdTools.Core.Data;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Evaluation;

/// <summary>One image's predicted label map, written as a palette PNG.</summary>
/// <param name="Index">Position of the image in the input (0-based).</param>
/// <param name="File">The image file.</param>
/// <param name="LabelFile">The label PNG written: the image's name with <c>.png</c>, in the output folder.</param>
/// <param name="Width">Width of the image and of its label map.</param>
/// <param name="Height">Height of the image and of its label map.</param>
/// <param name="ClassShares">Fraction of the map's pixels given to each class, indexed by class.</param>
public sealed record LabelMapPrediction(int Index, string File, string LabelFile, int Width, int Height, double[] ClassShares);

/// <summary>One input's result: its label map, or why it has none (an unreadable file).</summary>
public sealed record LabelMapOutcome(int Index, string File, LabelMapPrediction? Prediction, KdException? Error);

/// <summary>
/// Segments image files with a segmentation network (eval mode, no_grad) and writes each prediction as an 8-bit palette
/// PNG whose pixel values are the class indices (<see cref="VocPalette"/> colours, as Pascal VOC's SegmentationClass
/// files): images are decoded and resized as <see cref="Predictor"/> does, and the logits are upsampled bilinearly to
/// the image's own size before the argmax, so each label map has its image's size.
/// </summary>
public static class LabelMapPredictor
{
    /// <exception cref="KdException"><see cref="KdErrorIds.TaskMismatch"/> for a classifier and
    /// <see cref="KdErrorIds.InputShapeMismatch"/> for a model not for RGB images (on the first enumeration, before any
    /// file is read).</exception>
    public static IEnumerable<LabelMapOutcome> PredictFiles(PredictionSettings settings, IReadOnlyList<string> files, int imageSize,
        string outputFolder, CancellationToken cancellation = default)
    {
        if (settings.Model.Task != PredictionTask.Segmentation)
            throw new KdException(KdErrorIds.TaskMismatch, KdErrorKind.InvalidArgument,
                $"{settings.Model.Architecture} classifies whole images, so it has no label maps to write; use a segmentation model, or classify the images",
                settings.Model.Architecture);
        InputChecks.RequireChannels(settings.Model, Predictor.FileChannels, "image files (read as RGB)", "model");
        Directory.CreateDirectory(outputFolder);
        for (int start = 0; start < files.Count; start += settings.BatchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = Math.Min(settings.BatchSize, files.Count - start);
            var decoded = new StbImageSharp.ImageResult?[count];
            var errors = new KdException?[count];
            Parallel.For(0, count, i => (decoded[i], errors[i]) = Predictor.TryDecode(files[start + i]));
            var readable = Enumerable.Range(0, count).Where(i => decoded[i] is not null).ToList();
            var written = new Dictionary<int, LabelMapPrediction>();
            foreach (int i in readable.ToList())
            {
                if (!string.Equals(Path.GetFullPath(LabelFile(files[start + i], outputFolder)), Path.GetFullPath(files[start + i]), StringComparison.Ordinal))
                    continue;
                errors[i] = new KdException(KdErrorIds.PredictionWriteFailed, KdErrorKind.InvalidArgument,
                    $"the label map of '{files[start + i]}' would overwrite the image itself; write the label maps into another folder", files[start + i]);
                readable.Remove(i);
            }
            if (readable.Count > 0)
            {
                using var scope = NewDisposeScope();
                var logits = Segment(settings, Predictor.StackImages(decoded, readable, imageSize));
                for (int j = 0; j < readable.Count; j++)
                {
                    int i = readable[j];
                    var image = decoded[i]!;
                    try
                    {
                        written[i] = Write(files[start + i], start + i, logits[j].unsqueeze(0), image.Width, image.Height, outputFolder);
                    }
                    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                    {
                        errors[i] = new KdException(KdErrorIds.PredictionWriteFailed, KdErrorKind.WriteError,
                            $"the label map of '{files[start + i]}' cannot be written to '{outputFolder}' ({ex.Message}); check the folder's space and permissions",
                            files[start + i], ex);
                    }
                }
            }
            for (int i = 0; i < count; i++)
                yield return new LabelMapOutcome(start + i, files[start + i], written.GetValueOrDefault(i), errors[i]);
        }
    }

    /// <summary>The logits of a uint8 batch, on the CPU, in the caller's dispose scope.</summary>
    private static Tensor Segment(PredictionSettings settings, Tensor imagesUint8)
    {
        var model = settings.Model;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var inputs = BatchAugmentation.Prepare(imagesUint8, settings.Mean, settings.Std, augment: false).to(settings.Device);
            return model.Run(inputs).Logits.cpu();
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    private static string LabelFile(string image, string outputFolder) =>
        Path.Combine(outputFolder, Path.GetFileNameWithoutExtension(image) + ".png");

    private static LabelMapPrediction Write(string file, int index, Tensor logits, int width, int height, string outputFolder)
    {
        using var scope = NewDisposeScope();
        var labels = SegmentationNet.ResizeLogits(logits, height, width).argmax(1).flatten().to_type(ScalarType.Byte);
        long classes = logits.shape[1];
        var shares = labels.to_type(ScalarType.Int64).bincount(null, classes).to_type(ScalarType.Float64).div((double)width * height);
        var labelFile = LabelFile(file, outputFolder);
        LabelMapPng.Write(labelFile, labels.data<byte>().ToArray(), width, height, VocPalette.Colors);
        return new LabelMapPrediction(index, file, labelFile, width, height, shares.data<double>().ToArray());
    }
}
