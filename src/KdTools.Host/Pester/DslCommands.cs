using System.Collections;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace KdTools.Host.Pester;

/// <summary>Base of the discovery commands: they record into the <see cref="Discovery"/> of the file being loaded.</summary>
public abstract class DiscoveryCommand : PSCmdlet
{
    private protected Discovery CurrentDiscovery =>
        SessionState.PSVariable.GetValue(Discovery.VariableName) as Discovery ??
        throw new PSInvalidOperationException($"{MyInvocation.InvocationName} works only in test files run by `kdhost pester`.");
}

/// <summary>Describe / Context: runs the body now (discovery) to collect its tests and setup blocks.</summary>
[Cmdlet("Invoke", "PesterLiteBlock")]
public sealed class DescribeCommand : DiscoveryCommand
{
    [Parameter(Mandatory = true, Position = 0)] public string Name { get; set; } = "";
    [Parameter(Mandatory = true, Position = 1)] public ScriptBlock Fixture { get; set; } = null!;

    /// <summary>Accepted so tagged files load; kdhost runs every test regardless of tags.</summary>
    [Parameter] public string[] Tag { get; set; } = [];

    protected override void ProcessRecord() => CurrentDiscovery.InBlock(Name, () => Fixture.Invoke());
}

/// <summary>It: records one test, or one per -TestCases/-ForEach entry with &lt;name&gt; placeholders filled in.</summary>
[Cmdlet("Add", "PesterLiteTest")]
public sealed partial class ItCommand : DiscoveryCommand
{
    [Parameter(Mandatory = true, Position = 0)] public string Name { get; set; } = "";
    [Parameter(Mandatory = true, Position = 1)] public ScriptBlock Test { get; set; } = null!;
    [Parameter, Alias("ForEach")] public object[]? TestCases { get; set; }

    /// <summary>Accepted so tagged files load; kdhost runs every test regardless of tags.</summary>
    [Parameter] public string[] Tag { get; set; } = [];

    protected override void ProcessRecord()
    {
        var block = CurrentDiscovery.Current;
        if (TestCases is null)
        {
            block.Items.Add(new TestCase(Name, block, Test, [], null));
            return;
        }
        foreach (var entry in TestCases)
        {
            var item = PSObject.AsPSObject(entry).BaseObject;
            var data = item is IDictionary dictionary ? new Hashtable(dictionary, StringComparer.OrdinalIgnoreCase) : [];
            block.Items.Add(new TestCase(ExpandName(data, item), block, Test, data, item));
        }
    }

    private string ExpandName(Hashtable data, object item) => Placeholder().Replace(Name, match =>
    {
        var key = match.Groups[1].Value;
        var value = key == "_" ? item : data.ContainsKey(key) ? data[key] : null;
        return value is null ? match.Value : PSObject.AsPSObject(value).ToString();
    });

    [GeneratedRegex(@"<(\w+)>")]
    private static partial Regex Placeholder();
}

public abstract class SetupCommand : DiscoveryCommand
{
    [Parameter(Mandatory = true, Position = 0)] public ScriptBlock Scriptblock { get; set; } = null!;

    protected override void ProcessRecord() => Target(CurrentDiscovery.Current).Add(Scriptblock);

    private protected abstract List<ScriptBlock> Target(TestBlock block);
}

[Cmdlet("Add", "PesterLiteBeforeAll")]
public sealed class BeforeAllCommand : SetupCommand
{
    private protected override List<ScriptBlock> Target(TestBlock block) => block.BeforeAll;
}

[Cmdlet("Add", "PesterLiteAfterAll")]
public sealed class AfterAllCommand : SetupCommand
{
    private protected override List<ScriptBlock> Target(TestBlock block) => block.AfterAll;
}

[Cmdlet("Add", "PesterLiteBeforeEach")]
public sealed class BeforeEachCommand : SetupCommand
{
    private protected override List<ScriptBlock> Target(TestBlock block) => block.BeforeEach;
}

[Cmdlet("Add", "PesterLiteAfterEach")]
public sealed class AfterEachCommand : SetupCommand
{
    private protected override List<ScriptBlock> Target(TestBlock block) => block.AfterEach;
}
