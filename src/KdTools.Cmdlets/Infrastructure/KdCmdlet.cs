using System.Collections.Concurrent;
using System.Management.Automation;
using KdTools.Core;
using Microsoft.Extensions.Logging;

namespace KdTools.Cmdlets.Infrastructure;

/// <summary>
/// What every KdTools cmdlet shares: Ctrl+C → a cancellation token, Core's ILogger → Verbose/Debug/Warning records
/// written on the pipeline thread, and Core's KdException → ErrorRecord with its stable id.
/// </summary>
public abstract class KdCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<(LogLevel Level, string Message)> _log = new();

    protected CancellationToken Cancellation => _stop.Token;

    protected override void StopProcessing() => CancelForStop();

    /// <summary>Cancels <see cref="Cancellation"/>: PowerShell is stopping the pipeline.</summary>
    protected void CancelForStop() => _stop.Cancel();

    /// <summary>A logger whose records appear in this cmdlet's streams (drained by <see cref="FlushLog"/>).</summary>
    protected ILogger CreateLogger() => new QueueLogger(_log);

    /// <summary>Writes queued log records; call on the pipeline thread.</summary>
    protected void FlushLog()
    {
        while (_log.TryDequeue(out var entry))
        {
            switch (entry.Level)
            {
                case >= LogLevel.Warning: WriteWarning(entry.Message); break;
                case LogLevel.Information: WriteVerbose(entry.Message); break;
                default: WriteDebug(entry.Message); break;
            }
        }
    }

    /// <summary>Runs Core work, turning its failures into terminating errors with KdTools ids.</summary>
    protected T Invoke<T>(Func<T> work, object? target = null)
    {
        try
        {
            return work();
        }
        catch (KdException ex)
        {
            FlushLog();
            ThrowTerminatingError(ErrorRecords.From(ex, target));
            throw; // unreachable: ThrowTerminatingError always throws
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            FlushLog();
            throw new PipelineStoppedException();
        }
    }

    protected void Invoke(Action work, object? target = null) => Invoke(() => { work(); return 0; }, target);

    /// <summary>
    /// Runs Core work for one pipeline item: a failure becomes a non-terminating error (the other items still run) and
    /// the method returns false.
    /// </summary>
    protected bool TryInvoke<T>(Func<T> work, object? target, out T result)
    {
        try
        {
            result = work();
            return true;
        }
        catch (KdException ex)
        {
            FlushLog();
            WriteError(ErrorRecords.From(ex, target));
            result = default!;
            return false;
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            FlushLog();
            throw new PipelineStoppedException();
        }
    }

    /// <summary>Writes a non-terminating KdTools error for one pipeline item.</summary>
    protected void WriteKdError(string errorId, KdErrorKind kind, string message, object? target = null) =>
        WriteError(ErrorRecords.From(new KdException(errorId, kind, message, target)));

    /// <summary>A -Dataset argument as the dataset it names; a failure stops the cmdlet (bad configuration).</summary>
    protected KdDatasetInfo ResolveDataset(KdDatasetArgument argument) =>
        Invoke(() => ArgumentResolution.Dataset(argument.Value, ResolvePath), argument.Value);

    /// <summary>A model argument (-Teacher, -Model) as the model it names; a failure stops the cmdlet (bad configuration).</summary>
    protected KdModel ResolveModel(KdModelArgument argument, string role) =>
        Invoke(() => ArgumentResolution.Model(argument.Value, role, ResolvePath, out _), argument.Value);

    /// <summary>A pipeline item as a model (and the run it came from, if any); a failure is a non-terminating error.</summary>
    protected bool TryResolveModel(object? item, string role, out KdModel model, out KdRun? run)
    {
        var value = ArgumentResolution.Unwrap(item);
        KdRun? from = null;
        bool resolved = TryInvoke(() => ArgumentResolution.Model(value, role, ResolvePath, out from), value, out model);
        run = from;
        return resolved;
    }

    /// <summary>Stops the cmdlet with a KdTools error record.</summary>
    protected void Fail(string errorId, KdErrorKind kind, string message, object? target = null) =>
        ThrowTerminatingError(ErrorRecords.From(new KdException(errorId, kind, message, target)));

    /// <summary>A path as the user meant it, relative to PowerShell's current location.</summary>
    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    public void Dispose()
    {
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class QueueLogger(ConcurrentQueue<(LogLevel, string)> queue) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) => queue.Enqueue((logLevel, formatter(state, exception)));
    }
}

/// <summary>
/// KdException → ErrorRecord: the id is the Core id, the category follows the failure kind, and where the fix is a
/// cmdlet parameter (which Core's messages do not name) the message gets that hint.
/// </summary>
public static class ErrorRecords
{
    private static readonly Dictionary<string, string> Hints = new()
    {
        [KdErrorIds.CheckpointArchitectureRequired] = "load it with Import-KdModel -Architecture <name> -Classes <count>",
        [KdErrorIds.ModelNormalizationUnknown] =
            "import the model with Import-KdModel -Mean and -Std (the per-channel statistics it was trained with, in [0, 1] units)",
        [KdErrorIds.MethodNeedsTeacher] = "pass -Teacher, or pipe a model or run in",
        [KdErrorIds.MethodNeedsTeacherHeads] = "$teacher | Add-IntermediateHead -Dataset $data | Invoke-Distillation -Method DIH …",
        [KdErrorIds.DeviceUnavailable] = "use -Device cpu",
        [KdErrorIds.CheckpointUnfinished] = "continue it with -Resume <that file>, or pass -Force to start a new run beside it",
    };

    public static ErrorRecord From(KdException ex, object? target = null)
    {
        var record = new ErrorRecord(ex, ex.ErrorId, Category(ex.Kind), ex.Target ?? target);
        if (Hints.TryGetValue(ex.ErrorId, out var hint)) record.ErrorDetails = new ErrorDetails($"{ex.Message}; {hint}");
        return record;
    }

    public static ErrorCategory Category(KdErrorKind kind) => kind switch
    {
        KdErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        KdErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        KdErrorKind.InvalidData => ErrorCategory.InvalidData,
        KdErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        KdErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        KdErrorKind.NotInstalled => ErrorCategory.NotInstalled,
        KdErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        KdErrorKind.WriteError => ErrorCategory.WriteError,
        KdErrorKind.PermissionDenied => ErrorCategory.PermissionDenied,
        _ => ErrorCategory.NotSpecified,
    };
}
