using System.Globalization;
using System.Xml.Linq;

namespace KdTools.HelpGenerator;

/// <summary>Writes commands' help as MAML, the XML Get-Help reads for compiled cmdlets (&lt;assembly&gt;-Help.xml).</summary>
internal static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    public static XDocument Document(IEnumerable<CommandHelp> commands) => new(
        new XDeclaration("1.0", "utf-8", null),
        new XElement(Msh + "helpItems", new XAttribute("schema", "maml"),
            new XAttribute(XNamespace.Xmlns + "maml", Maml),
            new XAttribute(XNamespace.Xmlns + "command", Command),
            new XAttribute(XNamespace.Xmlns + "dev", Dev),
            commands.Select(CommandElement)));

    private static XElement CommandElement(CommandHelp help) => new(Command + "command",
        new XElement(Command + "details",
            new XElement(Command + "name", help.Name),
            new XElement(Command + "verb", help.Verb),
            new XElement(Command + "noun", help.Noun),
            Description(help.Synopsis.Length == 0 ? [] : [help.Synopsis])),
        Description(help.Description),
        new XElement(Command + "syntax", help.ParameterSets.Select(set => new XElement(Command + "syntaxItem",
            new XElement(Maml + "name", help.Name),
            help.Parameters.Where(p => p.In(set) is not null).OrderBy(p => SyntaxOrder(p, set))
                .Select(p => Parameter(p, p.In(set)!, inSyntax: true))))),
        new XElement(Command + "parameters",
            help.Parameters.Select(p => Parameter(p, AcrossSets(p), inSyntax: false))),
        new XElement(Command + "inputTypes", TypeList(help.Inputs, Command + "inputType",
            $"None. You can't pipe objects to {help.Name}.")),
        new XElement(Command + "returnValues", TypeList(help.Outputs, Command + "returnValue",
            $"None. {help.Name} writes no objects.")),
        new XElement(Command + "examples", help.Examples.Select((example, i) => new XElement(Command + "example",
            new XElement(Maml + "title", $"-------------------------- Example {i + 1} --------------------------"),
            new XElement(Dev + "code", example.Code),
            // The empty paragraph keeps a blank line between an example's explanation and the next example.
            new XElement(Dev + "remarks", example.Remarks.Append("").Select(Para))))),
        new XElement(Command + "relatedLinks", help.RelatedLinks.Select(link => new XElement(Maml + "navigationLink",
            new XElement(Maml + "linkText", link),
            new XElement(Maml + "uri")))));

    /// <summary>In a syntax line: positional parameters by position, then mandatory, then the rest as listed.</summary>
    private static int SyntaxOrder(ParameterHelp p, string set)
    {
        var membership = p.In(set)!;
        return membership.Position >= 0 ? membership.Position : membership.Mandatory ? 1000 : 2000;
    }

    /// <summary>For the parameter list: required when mandatory in any set, at its position in the set where it has one.</summary>
    private static SetMembership AcrossSets(ParameterHelp p) => new("",
        p.Sets.Any(s => s.Mandatory),
        p.Sets.Select(s => s.Position).Where(pos => pos >= 0).DefaultIfEmpty(int.MinValue).Min(),
        p.Sets.Any(s => s.ByValue),
        p.Sets.Any(s => s.ByPropertyName));

    private static XElement Parameter(ParameterHelp p, SetMembership membership, bool inSyntax)
    {
        var type = Nullable.GetUnderlyingType(p.Type) ?? p.Type;
        var element = new XElement(Command + "parameter",
            new XAttribute("required", Bool(membership.Mandatory)),
            new XAttribute("variableLength", Bool(type.IsArray)),
            new XAttribute("globbing", Bool(p.Globbing)),
            new XAttribute("pipelineInput", PipelineInput(p)),
            new XAttribute("position", membership.Position >= 0 ? membership.Position.ToString(CultureInfo.InvariantCulture) : "named"),
            new XAttribute("aliases", p.Aliases.Length == 0 ? "none" : string.Join(", ", p.Aliases)),
            new XElement(Maml + "name", p.Name),
            Description(p.Description.Length == 0 ? [] : [p.Description]));
        if (inSyntax && type.IsEnum)
            element.Add(new XElement(Command + "parameterValueGroup", Enum.GetNames(type).Select(v =>
                new XElement(Command + "parameterValue", new XAttribute("required", "false"), new XAttribute("variableLength", "false"), v))));
        if (!p.IsSwitch || !inSyntax)
            element.Add(new XElement(Command + "parameterValue", new XAttribute("required", Bool(!p.IsSwitch)),
                new XAttribute("variableLength", Bool(type.IsArray)), ShortName(type)));
        if (!inSyntax)
        {
            element.Add(new XElement(Dev + "type", new XElement(Maml + "name", type.FullName), new XElement(Maml + "uri")));
            element.Add(new XElement(Dev + "defaultValue", p.DefaultValue));
        }
        return element;
    }

    /// <summary>As PowerShell prints a parameter's type: Int32, String[], KdModel.</summary>
    private static string ShortName(Type type) => type.IsArray ? ShortName(type.GetElementType()!) + "[]" : type.Name;

    private static string PipelineInput(ParameterHelp p)
    {
        var ways = new List<string>();
        if (p.Sets.Any(s => s.ByValue)) ways.Add("ByValue");
        if (p.Sets.Any(s => s.ByPropertyName)) ways.Add("ByPropertyName");
        return ways.Count == 0 ? "False" : $"True ({string.Join(", ", ways)})";
    }

    private static IEnumerable<XElement> TypeList(IReadOnlyList<TypeHelp> types, XName item, string none) =>
        types.Count == 0
            ? [new XElement(item, new XElement(Dev + "type", new XElement(Maml + "name", "None")), Description([none]))]
            : types.Select(t => new XElement(item, new XElement(Dev + "type", new XElement(Maml + "name", t.TypeName)),
                Description(t.Description)));

    private static XElement Description(IEnumerable<string> paragraphs) => new(Maml + "description", paragraphs.Select(Para));

    private static XElement Para(string text) => new(Maml + "para", text);

    private static string Bool(bool value) => value ? "true" : "false";
}
