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

    protected override void StopProcessing() => _stop.Cancel();

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

/// <summary>KdException → ErrorRecord: the id is the Core id, the category follows the failure kind.</summary>
public static class ErrorRecords
{
    public static ErrorRecord From(KdException ex, object? target = null) =>
        new(ex, ex.ErrorId, Category(ex.Kind), ex.Target ?? target);

    public static ErrorCategory Category(KdErrorKind kind) => kind switch
    {
        KdErrorKind.InvalidArgument => ErrorCategory.InvalidArgument,
        KdErrorKind.ObjectNotFound => ErrorCategory.ObjectNotFound,
        KdErrorKind.InvalidData => ErrorCategory.InvalidData,
        KdErrorKind.InvalidOperation => ErrorCategory.InvalidOperation,
        KdErrorKind.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
        KdErrorKind.NotInstalled => ErrorCategory.NotInstalled,
        KdErrorKind.OperationStopped => ErrorCategory.OperationStopped,
        _ => ErrorCategory.NotSpecified,
    };
}
