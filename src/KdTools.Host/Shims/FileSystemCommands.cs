using System.Management.Automation;
using System.Text;

namespace KdTools.Host.Shims;

public enum TestPathType { Any, Container, Leaf }

/// <summary>Test-Path through the provider layer, so drive paths such as TestDrive:\x work; -PathType Any|Container|Leaf.</summary>
[Cmdlet(VerbsDiagnostic.Test, "Path")]
public sealed class TestPathCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [AllowEmptyString, AllowNull, Alias("PSPath")]
    public string?[] Path { get; set; } = [];

    [Parameter] public TestPathType PathType { get; set; } = TestPathType.Any;

    protected override void ProcessRecord()
    {
        foreach (var path in Path) WriteObject(Test(path));
    }

    private bool Test(string? path)
    {
        if (string.IsNullOrWhiteSpace(path)) return false;
        try
        {
            var items = SessionState.InvokeProvider.Item;
            if (!items.Exists(path)) return false;
            return PathType switch
            {
                TestPathType.Container => items.IsContainer(path),
                TestPathType.Leaf => !items.IsContainer(path),
                _ => true,
            };
        }
        catch (Exception e) when (e is System.Management.Automation.DriveNotFoundException or ProviderNotFoundException or ItemNotFoundException)
        {
            return false;
        }
    }
}

[Cmdlet(VerbsCommon.Join, "Path")]
public sealed class JoinPathCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true), Alias("PSPath")]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, Position = 1), AllowEmptyString] public string ChildPath { get; set; } = "";
    [Parameter(Position = 2, ValueFromRemainingArguments = true)] public string[] AdditionalChildPath { get; set; } = [];

    protected override void ProcessRecord()
    {
        foreach (var path in Path)
            WriteObject(AdditionalChildPath.Aggregate(SessionState.Path.Combine(path, ChildPath), SessionState.Path.Combine));
    }
}

/// <summary>Split-Path: the parent (default), or -Leaf, -LeafBase, -Extension of each path.</summary>
[Cmdlet(VerbsCommon.Split, "Path", DefaultParameterSetName = "Parent")]
public sealed class SplitPathCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true), Alias("PSPath")]
    public string[] Path { get; set; } = [];

    [Parameter(ParameterSetName = "Parent")] public SwitchParameter Parent { get; set; }
    [Parameter(Mandatory = true, ParameterSetName = "Leaf")] public SwitchParameter Leaf { get; set; }
    [Parameter(Mandatory = true, ParameterSetName = "LeafBase")] public SwitchParameter LeafBase { get; set; }
    [Parameter(Mandatory = true, ParameterSetName = "Extension")] public SwitchParameter Extension { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var path in Path)
        {
            var leaf = SessionState.Path.ParseChildName(path);
            WriteObject(ParameterSetName switch
            {
                "Leaf" => leaf,
                "LeafBase" => System.IO.Path.GetFileNameWithoutExtension(leaf),
                "Extension" => System.IO.Path.GetExtension(leaf),
                _ => SessionState.Path.ParseParent(path, ""),
            });
        }
    }
}

/// <summary>New-Item -ItemType File|Directory [-Value] [-Force] through the provider layer.</summary>
[Cmdlet(VerbsCommon.New, "Item")]
public sealed class NewItemCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)] public string[] Path { get; set; } = [];
    [Parameter(ValueFromPipelineByPropertyName = true)] public string? Name { get; set; }
    [Parameter, Alias("Type")] public string ItemType { get; set; } = "File";
    [Parameter(ValueFromPipeline = true)] public object? Value { get; set; }
    [Parameter] public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() =>
        WriteObject(SessionState.InvokeProvider.Item.New(Path, Name, ItemType, Value, Force), enumerateCollection: true);
}

/// <summary>Remove-Item [-Recurse] [-Force] through the provider layer; accepts items piped from Get-ChildItem.</summary>
[Cmdlet(VerbsCommon.Remove, "Item")]
public sealed class RemoveItemCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true), Alias("PSPath")]
    public string[] Path { get; set; } = [];

    [Parameter] public SwitchParameter Recurse { get; set; }
    [Parameter] public SwitchParameter Force { get; set; }

    protected override void ProcessRecord() => SessionState.InvokeProvider.Item.Remove(Path, Recurse, Force, literalPath: false);
}

/// <summary>Get-ChildItem [-Path] [-Filter wildcard on names] [-Recurse] [-File|-Directory] [-Force] through the provider layer.</summary>
[Cmdlet(VerbsCommon.Get, "ChildItem")]
public sealed class GetChildItemCommand : PSCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true), Alias("PSPath")]
    public string[] Path { get; set; } = ["."];

    [Parameter(Position = 1)] public string? Filter { get; set; }
    [Parameter] public SwitchParameter Recurse { get; set; }
    [Parameter] public SwitchParameter File { get; set; }
    [Parameter] public SwitchParameter Directory { get; set; }
    [Parameter] public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var filter = Filter is null ? null
            : WildcardPattern.Get(Filter, OperatingSystem.IsWindows() ? WildcardOptions.IgnoreCase : WildcardOptions.None);
        foreach (var item in SessionState.InvokeProvider.ChildItem.Get(Path, Recurse, Force, literalPath: false))
        {
            var isDirectory = item.BaseObject is DirectoryInfo;
            if ((File && isDirectory) || (Directory && !isDirectory)) continue;
            if (filter is not null && !filter.IsMatch(item.Properties["PSChildName"]?.Value?.ToString() ?? "")) continue;
            WriteObject(item);
        }
    }
}

/// <summary>Get-Content of files: one string per line, or the whole text with -Raw.</summary>
[Cmdlet(VerbsCommon.Get, "Content")]
public sealed class GetContentCommand : PSCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true), Alias("PSPath")]
    public string[] Path { get; set; } = [];

    [Parameter] public SwitchParameter Raw { get; set; }

    protected override void ProcessRecord()
    {
        foreach (var pattern in Path)
        {
            IEnumerable<string> files;
            try { files = SessionState.Path.GetResolvedProviderPathFromPSPath(pattern, out _); }
            catch (ItemNotFoundException e)
            {
                WriteError(new ErrorRecord(e, "PathNotFound", ErrorCategory.ObjectNotFound, pattern));
                continue;
            }
            foreach (var file in files)
            {
                if (Raw) WriteObject(System.IO.File.ReadAllText(file));
                else foreach (var line in System.IO.File.ReadLines(file)) WriteObject(line);
            }
        }
    }
}

/// <summary>Set-Content / Add-Content: each value's text on its own line, UTF-8 without BOM.</summary>
public abstract class WriteContentCommand(bool append) : PSCmdlet
{
    private readonly List<object?> _values = [];

    [Parameter(Mandatory = true, Position = 0), Alias("PSPath")] public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true), AllowNull, AllowEmptyCollection]
    public object?[] Value { get; set; } = [];

    [Parameter] public SwitchParameter NoNewline { get; set; }

    protected override void ProcessRecord() => _values.AddRange(Value);

    protected override void EndProcessing()
    {
        var separator = NoNewline ? "" : Environment.NewLine;
        var text = string.Concat(_values.Select(v => (v is null ? "" : PSObject.AsPSObject(v).ToString()) + separator));
        foreach (var path in Path)
        {
            var fullPath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);
            if (append) System.IO.File.AppendAllText(fullPath, text, new UTF8Encoding(false));
            else System.IO.File.WriteAllText(fullPath, text, new UTF8Encoding(false));
        }
    }
}

[Cmdlet(VerbsCommon.Set, "Content")]
public sealed class SetContentCommand() : WriteContentCommand(append: false);

[Cmdlet(VerbsCommon.Add, "Content")]
public sealed class AddContentCommand() : WriteContentCommand(append: true);

[Cmdlet(VerbsCommon.Get, "Location")]
public sealed class GetLocationCommand : PSCmdlet
{
    protected override void ProcessRecord() => WriteObject(SessionState.Path.CurrentLocation);
}

[Cmdlet(VerbsCommon.Set, "Location")]
public sealed class SetLocationCommand : PSCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true), Alias("PSPath")]
    public string Path { get; set; } = "~";

    protected override void ProcessRecord() => SessionState.Path.SetLocation(Path);
}
