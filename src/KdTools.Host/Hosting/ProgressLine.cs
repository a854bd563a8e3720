using System.Management.Automation;

namespace KdTools.Host.Hosting;

/// <summary>
/// Renders Write-Progress as one self-overwriting line on a terminal, redrawn at most every <paramref name="minInterval"/>
/// so that tight loops do not flood the console. The line is erased before any other output and on completion.
/// </summary>
internal sealed class ProgressLine(TextWriter terminal, int width, TimeSpan minInterval)
{
    private DateTime _lastDraw = DateTime.MinValue;
    private int _shownLength;

    public void Show(ProgressRecord record)
    {
        if (record.RecordType == ProgressRecordType.Completed) { Clear(); return; }
        var now = DateTime.UtcNow;
        if (now - _lastDraw < minInterval) return;
        _lastDraw = now;

        var text = $"{record.Activity}: {record.StatusDescription}";
        if (record.PercentComplete >= 0) text += $" {record.PercentComplete}%";
        if (!string.IsNullOrEmpty(record.CurrentOperation)) text += $" - {record.CurrentOperation}";
        if (text.Length > width) text = text[..width];
        terminal.Write("\r" + text.PadRight(_shownLength));
        terminal.Flush();
        _shownLength = text.Length;
    }

    public void Clear()
    {
        if (_shownLength == 0) return;
        terminal.Write("\r" + new string(' ', _shownLength) + "\r");
        terminal.Flush();
        _shownLength = 0;
    }
}
