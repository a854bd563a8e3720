using KdTools.Core.Data;

namespace KdTools.Core.Models;

/// <summary>
/// Checks that images fit a network before its first forward pass: a wrong channel count is an error
/// (<see cref="KdErrorIds.InputShapeMismatch"/>, instead of a failure deep inside a convolution), another image size than
/// the network was trained on is a warning (it runs, but its accuracy is not what was measured).
/// </summary>
public static class InputChecks
{
    /// <param name="role">What the network is to the caller ("student", "teacher", "model"), for the message.</param>
    public static void RequireChannels(ClassifierNet network, KdDataset data, string role) =>
        RequireChannels(network, data.Channels, $"dataset '{data.Name}'", role);

    /// <param name="source">Where the images come from ("dataset 'cifar10'", "the image files"), for the message.</param>
    public static void RequireChannels(ClassifierNet network, int channels, string source, string role)
    {
        if (network.InputChannels != channels)
            throw new KdException(KdErrorIds.InputShapeMismatch, KdErrorKind.InvalidArgument,
                $"the {role} ({network.Architecture}) takes {network.InputChannels}-channel images but {source} has " +
                $"{channels}-channel images; give it images with {network.InputChannels} channels", network.Architecture);
    }

    /// <summary>The warning for a network trained on another image size than <paramref name="height"/>×<paramref name="width"/>, or null.</summary>
    public static string? SizeWarning(ClassifierNet network, int height, int width, string source, string role) =>
        network.InputSize is { } trained && trained != new ImageSize(height, width)
            ? $"the {role} ({network.Architecture}) was trained on {trained} images but is given {height}×{width} images ({source}); " +
              "its predictions on them may be far worse than measured at its own size"
            : null;

    /// <summary>The size warnings of a training job: the student and the teacher against the dataset.</summary>
    internal static IEnumerable<string> SizeWarnings(Training.TrainingJob job)
    {
        var source = $"dataset '{job.Dataset.Name}'";
        if (SizeWarning(job.Student, job.Dataset.Height, job.Dataset.Width, source, "student") is { } student) yield return student;
        if (job.Teacher is { } teacher && SizeWarning(teacher, job.Dataset.Height, job.Dataset.Width, source, "teacher") is { } warning)
            yield return warning;
    }
}
