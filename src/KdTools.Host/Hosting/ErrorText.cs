using System.Management.Automation;
using System.Text;

namespace KdTools.Host.Hosting;

/// <summary>Plain-text renderings of error records, close to pwsh's ConciseView but on one line per error.</summary>
internal static class ErrorText
{
    public static string Message(ErrorRecord record) =>
        record.ErrorDetails?.Message is { Length: > 0 } details ? details : record.Exception.Message;

    /// <summary>"Command: message", as pwsh prints a non-terminating error.</summary>
    public static string Concise(ErrorRecord record) =>
        record.InvocationInfo?.MyCommand?.Name is { Length: > 0 } command ? $"{command}: {Message(record)}" : Message(record);

    /// <summary>Message, script position and FullyQualifiedErrorId of the error that stopped a script.</summary>
    public static string Terminating(ErrorRecord record)
    {
        var text = new StringBuilder(Message(record)).AppendLine();
        if (record.InvocationInfo?.PositionMessage is { Length: > 0 } position) text.AppendLine(position.Trim());
        return text.Append("FullyQualifiedErrorId: ").Append(record.FullyQualifiedErrorId).ToString();
    }
}
