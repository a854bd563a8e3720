using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;
using KdTools.HelpGenerator;

// Usage: KdTools.HelpGenerator <cmdlet assembly> <output MAML file>
// Reads the published cmdlet assembly (its dependencies beside it) and its XML documentation file (same name, .xml),
// and writes the MAML help of every cmdlet it defines. A cmdlet or parameter without doc comments still gets an entry
// (syntax, types, defaults), with empty text that tests/pester/Help.Tests.ps1 reports.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: KdTools.HelpGenerator <cmdlet assembly> <output MAML file>");
    return 2;
}
var assemblyPath = Path.GetFullPath(args[0]);
var folder = Path.GetDirectoryName(assemblyPath)!;
AssemblyLoadContext.Default.Resolving += (context, name) =>
    File.Exists(Path.Combine(folder, name.Name + ".dll")) ? context.LoadFromAssemblyPath(Path.Combine(folder, name.Name + ".dll")) : null;
var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(assemblyPath);

var cmdlets = assembly.GetExportedTypes()
    .Where(t => !t.IsAbstract && t.GetCustomAttribute<CmdletAttribute>() is not null)
    .ToDictionary(t => t, t => t.GetCustomAttribute<CmdletAttribute>()!);
// A cref to a cmdlet class reads as the cmdlet's name; to any other type, as the type's name.
string CrefText(string cref)
{
    var name = cref[(cref.IndexOf(':') + 1)..];
    var cmdlet = cmdlets.FirstOrDefault(c => c.Key.FullName == name).Value;
    return cmdlet is null ? name[(name.LastIndexOf('.') + 1)..] : $"{cmdlet.VerbName}-{cmdlet.NounName}";
}
var docs = new DocComments(Path.ChangeExtension(assemblyPath, ".xml"), CrefText);

var help = cmdlets.Keys.Select(t => CommandHelp.Read(t, docs)).OrderBy(h => h.Name, StringComparer.Ordinal).ToList();
Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(args[1]))!);
MamlWriter.Document(help).Save(args[1]);
return 0;
