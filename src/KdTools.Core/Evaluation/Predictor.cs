using KdTools.Core.Data;
using KdTools.Core.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Evaluation;

/// <summary>How <see cref="Predictor"/> runs a classifier.</summary>
public sealed record PredictionSettings
{
    public required ClassifierNet Model { get; init; }

    /// <summary>Per-channel normalisation the model was trained with (<c>(pixel / 255 − mean) / std</c>).</summary>
    public required float[] Mean { get; init; }

    public required float[] Std { get; init; }

    public Device Device { get; init; } = CPU;

    public int BatchSize { get; init; } = 64;

    /// <summary>Classes reported per image, most probable first (at most the class count).</summary>
    public int Top { get; init; } = 5;
}

/// <summary>The most probable classes of one image.</summary>
/// <param name="Index">Position of the image in the input (0-based).</param>
/// <param name="File">The image file, or null for an image of a dataset split.</param>
/// <param name="Label">The image's true class when known (a dataset split), else null.</param>
/// <param name="Classes">Class indices, most probable first.</param>
/// <param name="Probabilities">Softmax probability of each of <paramref name="Classes"/>.</param>
public sealed record Prediction(int Index, string? File, long? Label, int[] Classes, float[] Probabilities);

/// <summary>One input's result: its prediction, or why it has none (an unreadable file).</summary>
public sealed record PredictionOutcome(int Index, string? File, Prediction? Prediction, KdException? Error);

/// <summary>
/// Classifies images with a trained network, in eval mode under no_grad: image files (decoded and resized exactly as
/// <see cref="ImageFolderReader"/> reads a dataset) or a dataset split. Results stream out batch by batch, in input order.
/// </summary>
public static class Predictor
{
    internal const int FileChannels = 3;

    /// <summary>
    /// Predicts each file, resized to <paramref name="imageSize"/> pixels square. A file that cannot be read yields an
    /// outcome with its error; the other files are still classified.
    /// </summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.InputShapeMismatch"/> (on the first enumeration, before any
    /// file is read) when the model or its normalisation is not for RGB images.</exception>
    public static IEnumerable<PredictionOutcome> PredictFiles(PredictionSettings settings, IReadOnlyList<string> files, int imageSize,
        CancellationToken cancellation = default)
    {
        InputChecks.RequireChannels(settings.Model, FileChannels, "image files (read as RGB)", "model");
        if (settings.Mean.Length != FileChannels)
            throw new KdException(KdErrorIds.InputShapeMismatch, KdErrorKind.InvalidArgument,
                $"{settings.Model.Architecture} was trained on {settings.Mean.Length}-channel images, but image files are read as RGB (3 channels)",
                settings.Model.Architecture);
        for (int start = 0; start < files.Count; start += settings.BatchSize)
        {
            cancellation.ThrowIfCancellationRequested();
            int count = Math.Min(settings.BatchSize, files.Count - start);
            var decoded = new StbImageSharp.ImageResult?[count];
            var errors = new KdException?[count];
            // Decoding is managed code and dominates for small networks, so it runs in parallel as the dataset reader's does.
            Parallel.For(0, count, i => (decoded[i], errors[i]) = TryDecode(files[start + i]));

            var readable = Enumerable.Range(0, count).Where(i => decoded[i] is not null).ToList();
            List<(int[], float[])> predictions = [];
            if (readable.Count > 0)
            {
                // Closed before anything is yielded: a scope left open across a yield would capture the caller's tensors.
                using var scope = NewDisposeScope();
                predictions = Classify(settings, StackImages(decoded, readable, imageSize));
            }
            int next = 0;
            for (int i = 0; i < count; i++)
            {
                var file = files[start + i];
                if (errors[i] is { } error)
                {
                    yield return new PredictionOutcome(start + i, file, null, error);
                    continue;
                }
                var (classes, probabilities) = predictions[next++];
                yield return new PredictionOutcome(start + i, file, new Prediction(start + i, file, null, classes, probabilities), null);
            }
        }
    }

    /// <summary>Predicts every image of a split (for example a dataset's test split), with its true label.</summary>
    public static IEnumerable<Prediction> PredictSet(PredictionSettings settings, ImageSet set, CancellationToken cancellation = default)
    {
        InputChecks.RequireChannels(settings.Model, set.Channels, "the dataset", "model");
        using var loader = new BatchLoader(set, settings.BatchSize, shuffle: false);
        // One order for the whole pass, so a streamed split is read ahead batch after batch; owned here, not by whatever
        // dispose scope the caller enumerates in.
        using var order = loader.EpochOrder(0).DetachFromDisposeScope();
        for (int b = 0; b < loader.BatchCount; b++)
        {
            cancellation.ThrowIfCancellationRequested();
            List<(int[], float[])> predictions;
            long[] labels;
            int first = b * settings.BatchSize;
            using (var scope = NewDisposeScope())
            {
                var batch = loader.GetBatch(order, b);
                labels = batch.Labels.data<long>().ToArray();
                predictions = Classify(settings, batch.Images);
            }
            for (int i = 0; i < predictions.Count; i++)
                yield return new Prediction(first + i, null, labels[i], predictions[i].Item1, predictions[i].Item2);
        }
    }

    internal static (StbImageSharp.ImageResult?, KdException?) TryDecode(string file)
    {
        try
        {
            return (ImageFolderReader.Decode(file), null);
        }
        catch (KdException ex)
        {
            return (null, ex);
        }
        catch (FileNotFoundException ex)
        {
            return (null, new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                $"image '{file}' does not exist", file, ex));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return (null, new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
                $"image '{file}' cannot be read ({ex.Message})", file, ex));
        }
    }

    /// <summary>The readable images as one uint8 [n, 3, side, side] tensor (in the caller's dispose scope).</summary>
    internal static Tensor StackImages(StbImageSharp.ImageResult?[] decoded, List<int> readable, int side)
    {
        var images = zeros(readable.Count, FileChannels, side, side, dtype: ScalarType.Byte);
        for (int j = 0; j < readable.Count; j++)
        {
            using var scope = NewDisposeScope();
            images[j].copy_(ImageFolderReader.ToTensor(decoded[readable[j]]!, side));
        }
        return images;
    }

    /// <summary>Top-k classes and probabilities of each image of a uint8 batch; disposes everything it creates.</summary>
    private static List<(int[] Classes, float[] Probabilities)> Classify(PredictionSettings settings, Tensor imagesUint8)
    {
        var model = settings.Model;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var inputs = BatchAugmentation.Prepare(imagesUint8, settings.Mean, settings.Std, augment: false).to(settings.Device);
            var probabilities = model.Run(inputs).Logits.softmax(1);
            int k = Math.Min(settings.Top, (int)probabilities.shape[1]);
            var (values, indexes) = probabilities.topk(k, dim: 1);
            var topValues = values.cpu().data<float>().ToArray();
            var topIndexes = indexes.cpu().data<long>().ToArray();
            return Enumerable.Range(0, (int)values.shape[0])
                .Select(i => (topIndexes.Skip(i * k).Take(k).Select(c => (int)c).ToArray(), topValues.Skip(i * k).Take(k).ToArray()))
                .ToList();
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
