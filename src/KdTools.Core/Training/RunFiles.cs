using System.Globalization;
using KdTools.Core.Checkpoints;

namespace KdTools.Core.Training;

/// <summary>
/// The checkpoint files of one run: <c>&lt;name&gt;-last.safetensors</c> (resumable, every epoch and on a stop) and
/// <c>&lt;name&gt;-best.safetensors</c> (the best epoch's model). The name is the run's own
/// (<c>KD-resnet8-seed1-20250314-104501-3fa2</c>: method, student, seed, start time and a random suffix), so runs that
/// share a folder — a sweep, or several processes — never write each other's files; a resumed run keeps the name of
/// the checkpoint it resumes.
/// </summary>
internal sealed class RunFiles(string? folder, string name)
{
    public const string LastSuffix = "-last.safetensors";
    public const string BestSuffix = "-best.safetensors";

    /// <summary>Where a stopped run without a checkpoint folder saves its resumable checkpoint.</summary>
    public static string DefaultFolder => Path.Combine(Path.GetTempPath(), "kdtools", "checkpoints");

    /// <summary>Where the run writes every epoch; null when it writes only when stopped (into <see cref="DefaultFolder"/>).</summary>
    public string? Folder { get; } = folder;

    public string Name { get; } = name;

    public string Last => LastIn(Folder ?? DefaultFolder);
    public string? Best => Folder is null ? null : Path.Combine(Folder, Name + BestSuffix);

    /// <summary>This run's resumable checkpoint in another folder (a stop's fallback).</summary>
    public string LastIn(string folder) => Path.Combine(folder, Name + LastSuffix);

    /// <summary>
    /// The files of a new run in the settings' folder, or of a resumed run: its checkpoint's name, in the settings'
    /// folder or else the checkpoint's own.
    /// </summary>
    public static RunFiles For(TrainingJob job, TrainingSettings settings)
    {
        if (job.ResumeFrom is { } resumed && Path.GetFileName(resumed) is { } file && file.EndsWith(LastSuffix, StringComparison.Ordinal))
            return new RunFiles(settings.CheckpointDirectory ?? Path.GetDirectoryName(Path.GetFullPath(resumed)), file[..^LastSuffix.Length]);
        if (job.RunName is { } given) return new RunFiles(settings.CheckpointDirectory, given);
        var student = job.Student is Models.MultiExitNet multi ? multi.Backbone.Architecture : job.Student.Architecture;
        var name = string.Create(CultureInfo.InvariantCulture,
            $"{job.Method.Name}-{student}-seed{settings.Seed}-{DateTime.Now:yyyyMMdd-HHmmss}-{Random.Shared.Next(0x10000):x4}");
        return new RunFiles(settings.CheckpointDirectory, name);
    }

    /// <summary>
    /// The most recent resumable checkpoint in <paramref name="folder"/> of an unfinished run (stopped, crashed or still
    /// running) with <paramref name="identity"/>, if any: starting a new run instead would redo its work. Checkpoints
    /// that do not read are not runs to protect, and are passed over.
    /// </summary>
    public static (string Path, string Position)? FindUnfinished(string folder, RunIdentity identity)
    {
        if (!Directory.Exists(folder)) return null;
        foreach (var file in new DirectoryInfo(folder).EnumerateFiles("*" + LastSuffix).OrderByDescending(f => f.LastWriteTimeUtc))
        {
            try
            {
                var metadata = SafeTensorsFile.ReadMetadata(file.FullName);
                if (metadata.GetValueOrDefault(CheckpointMetadata.Kind) != CheckpointMetadata.KindResumable
                    || !metadata.TryGetValue(CheckpointMetadata.RunIdentity, out var saved)
                    || RunIdentity.FromJson(saved, file.FullName).Differences(identity).Count > 0)
                    continue;
                var run = TrainingCheckpoint.ReadRun(metadata, file.FullName);
                if (!run.Finished) return (file.FullName, run.Describe());
            }
            catch (Exception ex) when (ex is KdException or IOException or UnauthorizedAccessException)
            {
                // Damaged or foreign: nothing that a new run could overwrite by mistake.
            }
        }
        return null;
    }
}
