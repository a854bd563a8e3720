using System.Collections;
using System.Management.Automation;

namespace KdTools.Host.Shims;

[Cmdlet(VerbsCommunications.Write, "Host")]
public sealed class WriteHostCommand : PSCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromRemainingArguments = true)]
    [Alias("Msg", "Message")]
    public object? Object { get; set; }

    [Parameter] public SwitchParameter NoNewline { get; set; }
    [Parameter] public object Separator { get; set; } = " ";

    /// <summary>Accepted for compatibility; kdhost prints plain text.</summary>
    [Parameter] public ConsoleColor ForegroundColor { get; set; }

    /// <summary>Accepted for compatibility; kdhost prints plain text.</summary>
    [Parameter] public ConsoleColor BackgroundColor { get; set; }

    protected override void ProcessRecord() =>
        WriteInformation(new HostInformationMessage { Message = Render(Object), NoNewLine = NoNewline }, ["PSHOST"]);

    private string Render(object? value) => PSObject.AsPSObject(value ?? "").BaseObject switch
    {
        string text => text,
        IEnumerable items => string.Join(Separator.ToString(), items.Cast<object?>().Select(Render)),
        var other => other.ToString() ?? "",
    };
}

[Cmdlet(VerbsCommunications.Write, "Output")]
public sealed class WriteOutputCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromRemainingArguments = true)]
    [AllowNull, AllowEmptyCollection]
    public PSObject? InputObject { get; set; }

    [Parameter] public SwitchParameter NoEnumerate { get; set; }

    protected override void ProcessRecord() => WriteObject(InputObject, enumerateCollection: !NoEnumerate);
}

[Cmdlet(VerbsCommunications.Write, "Warning")]
public sealed class WriteWarningCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString, Alias("Msg")]
    public string Message { get; set; } = "";

    protected override void ProcessRecord() => WriteWarning(Message);
}

[Cmdlet(VerbsCommunications.Write, "Verbose")]
public sealed class WriteVerboseCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString, Alias("Msg")]
    public string Message { get; set; } = "";

    protected override void ProcessRecord() => WriteVerbose(Message);
}

[Cmdlet(VerbsCommunications.Write, "Debug")]
public sealed class WriteDebugCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [AllowEmptyString, Alias("Msg")]
    public string Message { get; set; } = "";

    protected override void ProcessRecord() => WriteDebug(Message);
}

[Cmdlet(VerbsCommunications.Write, "Information")]
public sealed class WriteInformationCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("Msg", "Message")]
    public object? MessageData { get; set; }

    [Parameter(Position = 1)] public string[] Tags { get; set; } = [];

    protected override void ProcessRecord() => WriteInformation(MessageData, Tags);
}

/// <summary>The exception behind errors created by the Write-Error shim from a bare message.</summary>
public sealed class WriteErrorException(string message) : SystemException(message);

[Cmdlet(VerbsCommunications.Write, "Error", DefaultParameterSetName = "NoException")]
public sealed class WriteErrorCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = "NoException")]
    [Parameter(ParameterSetName = "WithException")]
    [AllowNull, AllowEmptyString, Alias("Msg")]
    public string? Message { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "WithException")]
    public Exception? Exception { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = "ErrorRecord")]
    public ErrorRecord? ErrorRecord { get; set; }

    [Parameter(ParameterSetName = "NoException")]
    [Parameter(ParameterSetName = "WithException")]
    public string? ErrorId { get; set; }

    [Parameter(ParameterSetName = "NoException")]
    [Parameter(ParameterSetName = "WithException")]
    public ErrorCategory Category { get; set; } = ErrorCategory.NotSpecified;

    [Parameter(ParameterSetName = "NoException")]
    [Parameter(ParameterSetName = "WithException")]
    public object? TargetObject { get; set; }

    protected override void ProcessRecord()
    {
        if (ErrorRecord is not null) { WriteError(ErrorRecord); return; }
        var exception = Exception ?? new WriteErrorException(Message ?? "");
        var record = new ErrorRecord(exception, ErrorId ?? exception.GetType().FullName, Category, TargetObject);
        if (Exception is not null && !string.IsNullOrEmpty(Message)) record.ErrorDetails = new ErrorDetails(Message);
        WriteError(record);
    }
}

[Cmdlet(VerbsCommunications.Write, "Progress")]
public sealed class WriteProgressCommand : PSCmdlet
{
    [Parameter(Position = 0)] public string Activity { get; set; } = "Processing";
    [Parameter(Position = 1)] public string Status { get; set; } = "Processing";
    [Parameter(Position = 2)] public int Id { get; set; }
    [Parameter] public int PercentComplete { get; set; } = -1;
    [Parameter] public int SecondsRemaining { get; set; } = -1;
    [Parameter] public string? CurrentOperation { get; set; }
    [Parameter] public int ParentId { get; set; } = -1;
    [Parameter] public SwitchParameter Completed { get; set; }

    protected override void ProcessRecord() => WriteProgress(new ProgressRecord(Id, Activity, Status)
    {
        PercentComplete = PercentComplete,
        SecondsRemaining = SecondsRemaining,
        CurrentOperation = CurrentOperation,
        ParentActivityId = ParentId,
        RecordType = Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
    });
}
