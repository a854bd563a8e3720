using System.Runtime.ExceptionServices;
using StbImageSharp;
using TorchSharp;
using static TorchSharp.torch;

namespace KdTools.Core.Data;

/// <summary>An image file and the label map that annotates it.</summary>
internal sealed record LabelledImageFile(string Image, string Label);

/// <summary>
/// What the segmentation formats share: decoding image/label-map pairs, checking that they fit, translating the stored
/// label values to class numbers, and placing every pair on one square canvas so a split is one tensor.
/// </summary>
/// <remarks>
/// Each image is scaled (keeping its aspect ratio) until its longer side is the canvas side and placed at the top-left,
/// as the reference pads crops at the bottom and right; the rest of the canvas is the image's mean colour, and its label
/// is <see cref="LabelMaps.IgnoreIndex"/>, so padding counts in no loss and no metric. Images are resized with
/// antialiased bilinear interpolation, label maps with nearest-neighbour (pixel centres), so labels stay class numbers.
/// </remarks>
internal static class SegmentationFolderReader
{
    private const int Channels = 3;

    /// <summary>Marks a stored label value that no class and not the ignore label stands for.</summary>
    public const int InvalidLabel = -1;

    /// <param name="labelLookup">256 entries: the class number (or 255) each stored value means, or <see cref="InvalidLabel"/>.</param>
    public static ImageSet ReadSplit(IReadOnlyList<LabelledImageFile> files, int imageSize, IReadOnlyList<int> labelLookup)
    {
        if (imageSize < 8)
            throw new KdException(KdErrorIds.DatasetInvalid, KdErrorKind.InvalidArgument,
                $"image size must be at least 8 pixels for a segmentation dataset, got {imageSize}", imageSize);
        foreach (var file in files)
        {
            if (!File.Exists(file.Image))
                throw new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                    $"image '{file.Image}' is missing; restore it or remove it from the split", file.Image);
            if (!File.Exists(file.Label))
                throw new KdException(KdErrorIds.DatasetFileMissing, KdErrorKind.ObjectNotFound,
                    $"image '{file.Image}' has no label map: '{file.Label}' is missing; restore it or remove the image from the split",
                    file.Label);
        }

        // Decoding is managed code and dominates on real folders, so it runs in parallel; tensors are made afterwards.
        var decoded = new (ImageResult Image, byte[] Labels)[files.Count];
        try
        {
            Parallel.For(0, files.Count, i => decoded[i] = Decode(files[i], labelLookup));
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(inner => inner is KdException) is { } first)
        {
            ExceptionDispatchInfo.Throw(first); // report one bad file the way a sequential read would
        }

        using var scope = NewDisposeScope();
        var images = zeros(files.Count, Channels, imageSize, imageSize, dtype: ScalarType.Byte);
        var labels = full(files.Count, imageSize, imageSize, LabelMaps.IgnoreIndex, dtype: ScalarType.Byte);
        for (int i = 0; i < decoded.Length; i++)
        {
            using var sampleScope = NewDisposeScope();
            var (image, labelValues) = decoded[i];
            var pixels = tensor(image.Data, [image.Height, image.Width, Channels], ScalarType.Byte).permute(2, 0, 1);
            var labelMap = tensor(labelValues, [image.Height, image.Width], ScalarType.Byte);
            PlaceOnCanvas(pixels, labelMap, images[i], labels[i]);
            decoded[i] = default; // release the pixels as we go
        }
        return new ImageSet(images.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope());
    }

    /// <summary>A dataset of two splits read by <see cref="ReadSplit"/>, normalised with the train split's statistics.</summary>
    public static KdDataset Create(string name, string source, IReadOnlyList<string> classNames,
        Func<ImageSet> readTrain, Func<ImageSet> readTest)
    {
        var train = readTrain();
        try
        {
            var test = readTest();
            var (mean, std) = ChannelStatistics.Compute(train);
            return new KdDataset(name, source, classNames.Count, train, test, mean, std, classNames);
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    private static (ImageResult Image, byte[] Labels) Decode(LabelledImageFile file, IReadOnlyList<int> labelLookup)
    {
        var image = ImageFolderReader.Decode(file.Image);
        var labelMap = LabelMapPng.Read(file.Label);
        if (labelMap.Width != image.Width || labelMap.Height != image.Height)
            throw new KdException(KdErrorIds.DatasetLabelMismatch, KdErrorKind.InvalidData,
                $"label map '{file.Label}' is {labelMap.Width}x{labelMap.Height} but its image '{file.Image}' is " +
                $"{image.Width}x{image.Height}; a label map must annotate every pixel of its image", file.Label);

        return (image, ToClasses(labelMap, labelLookup, file.Label));
    }

    /// <summary>The class number (or the ignore label) of every stored value of <paramref name="labelMap"/>.</summary>
    /// <exception cref="KdException"><see cref="KdErrorIds.DatasetFileCorrupt"/> naming the first value that is no class.</exception>
    public static byte[] ToClasses(LabelImage labelMap, IReadOnlyList<int> labelLookup, string file)
    {
        var classes = new byte[labelMap.Values.Length];
        for (int p = 0; p < classes.Length; p++)
        {
            int value = labelLookup[labelMap.Values[p]];
            if (value == InvalidLabel)
                throw new KdException(KdErrorIds.DatasetFileCorrupt, KdErrorKind.InvalidData,
                    $"label map '{file}' has the value {labelMap.Values[p]} at pixel ({p % labelMap.Width}, {p / labelMap.Width}), " +
                    $"which is no class of this dataset and not the ignore label {LabelMaps.IgnoreIndex}", file);
            classes[p] = (byte)value;
        }
        return classes;
    }

    /// <summary>Scales <paramref name="pixels"/> [3, H, W] and <paramref name="labelMap"/> [H, W] onto the canvas views.</summary>
    private static void PlaceOnCanvas(Tensor pixels, Tensor labelMap, Tensor imageCanvas, Tensor labelCanvas)
    {
        long side = imageCanvas.shape[1], height = pixels.shape[1], width = pixels.shape[2];
        double scale = (double)side / Math.Max(height, width);
        long scaledHeight = Math.Clamp((long)Math.Round(height * scale), 1, side);
        long scaledWidth = Math.Clamp((long)Math.Round(width * scale), 1, side);
        if (scaledHeight != height || scaledWidth != width)
        {
            // Antialiasing matters when shrinking photos; without it bilinear sampling aliases badly.
            pixels = nn.functional.interpolate(pixels.unsqueeze(0).to(ScalarType.Float32), [scaledHeight, scaledWidth],
                mode: InterpolationMode.Bilinear, align_corners: false, antialias: true).squeeze(0).round().clamp(0, 255).to(ScalarType.Byte);
            labelMap = nn.functional.interpolate(labelMap.view(1, 1, height, width).to(ScalarType.Float32), [scaledHeight, scaledWidth],
                mode: InterpolationMode.NearestExact).view(scaledHeight, scaledWidth).to(ScalarType.Byte);
        }
        var meanColour = pixels.to(ScalarType.Float32).mean([1, 2]).round().to(ScalarType.Byte);
        imageCanvas.copy_(meanColour.view(Channels, 1, 1).expand(Channels, side, side));
        imageCanvas.narrow(1, 0, scaledHeight).narrow(2, 0, scaledWidth).copy_(pixels);
        labelCanvas.narrow(0, 0, scaledHeight).narrow(1, 0, scaledWidth).copy_(labelMap);
    }
}
