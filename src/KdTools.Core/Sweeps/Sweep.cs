using KdTools.Core.Training;

namespace KdTools.Core.Sweeps;

/// <summary>What <see cref="Sweep.Run"/> did with a row.</summary>
public enum SweepAction
{
    /// <summary>The ledger has the row completed: nothing ran; <see cref="SweepOutcome.Entry"/> holds its results.</summary>
    Skipped,

    /// <summary>The row ran from its start (new, or failed before).</summary>
    Ran,

    /// <summary>The row continued from the checkpoint its killed or stopped run left.</summary>
    Resumed,
}

/// <summary>A row of a sweep after <see cref="Sweep.Run"/>: the run's result, or its failure, and the ledger entry written.</summary>
public sealed record SweepOutcome
{
    public required string Key { get; init; }
    public required SweepAction Action { get; init; }

    /// <summary>The entry the row ended with: Completed (with results), Failed or Stopped.</summary>
    public required SweepEntry Entry { get; init; }

    /// <summary>The run (null when skipped or failed). A stopped run's result says Cancelled.</summary>
    public DistillationResult? Result { get; init; }

    /// <summary>Why the row failed (null unless <see cref="SweepEntry.Status"/> is Failed); the other rows go on.</summary>
    public KdException? Failure { get; init; }
}

/// <summary>
/// Runs the rows of a plan against a ledger (<see cref="SweepLedger"/>), so a sweep that dies halfway is finished by
/// running it again: a row the ledger has completed is skipped, a row whose run was killed or stopped resumes from its
/// checkpoint (named from the row's key, so the ledger's folder is all a rerun needs), a failed row runs again from the
/// start. A row's failure is recorded and returned, never thrown: the other rows go on.
/// </summary>
public static class Sweep
{
    /// <summary>
    /// Runs one row. Checkpoints go to the request's checkpoint folder, or, without one, to the ledger's
    /// (<see cref="SweepLedger.DefaultCheckpointFolder"/>): a row must have a checkpoint to be resumable.
    /// </summary>
    public static SweepOutcome Run(SweepLedger ledger, DistillationRequest request, CancellationToken cancellation = default)
    {
        var key = SweepKey.Of(request);
        var last = ledger.Last(key);
        if (last?.Status == SweepStatus.Completed)
            return new SweepOutcome { Key = key, Action = SweepAction.Skipped, Entry = last };

        var settings = request.ResolveSettings();
        var folder = settings.CheckpointDirectory ?? ledger.DefaultCheckpointFolder;
        var name = SweepKey.RunName(key, request);
        var checkpoint = Path.Combine(folder, name + RunFiles.LastSuffix);
        // A failed run starts over (resuming would replay the failure); a killed or stopped one continues.
        bool resume = last?.Status != SweepStatus.Failed && File.Exists(checkpoint);
        var run = request with
        {
            Settings = settings with { CheckpointDirectory = folder },
            Overrides = null,
            RunName = name,
            ResumeFrom = resume ? checkpoint : null,
            StartOver = true,
        };
        var action = resume ? SweepAction.Resumed : SweepAction.Ran;
        ledger.Append(new SweepEntry { Key = key, Status = SweepStatus.Started, Checkpoint = checkpoint });
        DistillationResult result;
        try
        {
            result = Distillation.Run(run, cancellation);
        }
        catch (Exception ex) when (ex is KdException or IOException or UnauthorizedAccessException)
        {
            var failure = ex as KdException ?? new KdException(KdErrorIds.CheckpointWriteFailed, KdErrorKind.WriteError,
                $"the run of sweep row '{key}' failed: {ex.Message}", checkpoint, ex);
            var failed = new SweepEntry
            {
                Key = key, Status = SweepStatus.Failed, Checkpoint = File.Exists(checkpoint) ? checkpoint : "",
                ErrorId = failure.ErrorId, Error = failure.Message,
            };
            ledger.Append(failed);
            return new SweepOutcome { Key = key, Action = action, Entry = failed, Failure = failure };
        }
        var teacher = result.Teacher?.Architecture ?? "";
        var entry = result.Cancelled
            ? new SweepEntry { Key = key, Status = SweepStatus.Stopped, Checkpoint = result.LastCheckpoint ?? "" }
            : new SweepEntry { Key = key, Status = SweepStatus.Completed, Checkpoint = result.LastCheckpoint ?? "", Results = SweepResults.Of(result, teacher) };
        ledger.Append(entry);
        return new SweepOutcome { Key = key, Action = action, Entry = entry, Result = result };
    }
}
