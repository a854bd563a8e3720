namespace KdTools.Core;

/// <summary>What a dataset's labels and a network's logits describe; a run's dataset and networks must agree on it.</summary>
public enum PredictionTask
{
    /// <summary>One class per image: int64 labels [N], logits [B, classes].</summary>
    Classification,

    /// <summary>
    /// One class per pixel: uint8 label maps [N, H, W] with <see cref="Data.LabelMaps.IgnoreIndex"/> (255) for pixels
    /// that count nowhere, logits [B, classes, h, w] at a fraction of the input size.
    /// </summary>
    Segmentation,
}

/// <summary>
/// The checks that keep a run to one task: a network, a method and a dataset must all be of the dataset's
/// <see cref="PredictionTask"/>, and a mismatch fails before any work with a message that says what to use instead.
/// </summary>
internal static class TaskCompatibility
{
    /// <summary>Fails with <see cref="KdErrorIds.TaskMismatch"/> unless <paramref name="network"/> predicts <paramref name="task"/>.</summary>
    /// <param name="role">How the message names the network: "student", "teacher", "model".</param>
    /// <param name="dataset">The dataset's name, for the message.</param>
    public static void RequireNetwork(Models.ClassifierNet network, string role, PredictionTask task, string dataset) =>
        RequireArchitecture(network.Architecture, network.Task, role, task, dataset);

    /// <summary>As <see cref="RequireNetwork"/>, for an architecture before it is built.</summary>
    public static void RequireArchitecture(string architecture, PredictionTask architectureTask, string role, PredictionTask task, string dataset)
    {
        if (architectureTask == task) return;
        throw new KdException(KdErrorIds.TaskMismatch, KdErrorKind.InvalidArgument,
            $"the {role} {architecture} is a {Noun(architectureTask)} network but dataset '{dataset}' holds {Labels(task)}; " +
            $"use a {Noun(task)} architecture ({Examples(task)}) or a {Noun(architectureTask)} dataset", architecture);
    }

    /// <summary>Fails with <see cref="KdErrorIds.MethodTaskUnsupported"/> unless <paramref name="tasks"/> includes <paramref name="task"/>.</summary>
    public static void RequireMethod(string method, IReadOnlyList<PredictionTask> tasks, PredictionTask task, string dataset)
    {
        if (tasks.Contains(task)) return;
        var alternatives = Methods.MethodRegistry.All.Where(m => m.Tasks.Contains(task)).Select(m => m.Name).Order(StringComparer.Ordinal);
        throw new KdException(KdErrorIds.MethodTaskUnsupported, KdErrorKind.InvalidArgument,
            $"method {method} distills {string.Join(" and ", tasks.Select(Noun))} networks, but dataset '{dataset}' holds {Labels(task)}; " +
            $"methods for {Noun(task)}: {string.Join(", ", alternatives)}", method);
    }

    private static string Noun(PredictionTask task) => task == PredictionTask.Segmentation ? "segmentation" : "classification";

    private static string Labels(PredictionTask task) =>
        task == PredictionTask.Segmentation ? "per-pixel label maps (segmentation)" : "one class per image (classification)";

    private static string Examples(PredictionTask task) =>
        string.Join(", ", Models.ArchitectureRegistry.All.Where(a => a.Task == task).Select(a => a.Name).Take(3)) + ", … see Get-KdArchitecture";
}
