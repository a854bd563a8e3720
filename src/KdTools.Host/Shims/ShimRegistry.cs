using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Reflection;

namespace KdTools.Host.Shims;

/// <summary>
/// Stand-ins for the Microsoft.PowerShell.Utility and .Management cmdlets that the System.Management.Automation package
/// lacks (it ships only Microsoft.PowerShell.Core). Each is added only when the session has no command of that name.
/// </summary>
public static class ShimRegistry
{
    public static IReadOnlyList<Type> CommandTypes { get; } =
    [
        typeof(WriteHostCommand), typeof(WriteOutputCommand), typeof(WriteWarningCommand), typeof(WriteVerboseCommand),
        typeof(WriteDebugCommand), typeof(WriteInformationCommand), typeof(WriteErrorCommand), typeof(WriteProgressCommand),
        typeof(SelectObjectCommand), typeof(SortObjectCommand), typeof(MeasureObjectCommand),
        typeof(FormatTableCommand), typeof(FormatListCommand), typeof(OutStringCommand),
        typeof(ExportCsvCommand), typeof(ImportCsvCommand), typeof(GetDateCommand), typeof(StartSleepCommand),
        typeof(TestPathCommand), typeof(JoinPathCommand), typeof(SplitPathCommand), typeof(NewItemCommand),
        typeof(RemoveItemCommand), typeof(GetChildItemCommand), typeof(GetContentCommand), typeof(SetContentCommand),
        typeof(AddContentCommand), typeof(GetLocationCommand), typeof(SetLocationCommand),
    ];

    /// <returns>The names of the shims that were added.</returns>
    public static IReadOnlyList<string> AddMissing(InitialSessionState state)
    {
        var added = new List<string>();
        foreach (var type in CommandTypes)
        {
            var cmdlet = type.GetCustomAttribute<CmdletAttribute>()!;
            var name = $"{cmdlet.VerbName}-{cmdlet.NounName}";
            if (state.Commands[name].Count > 0) continue;
            state.Commands.Add(new SessionStateCmdletEntry(name, type, null));
            added.Add(name);
        }
        return added;
    }
}
