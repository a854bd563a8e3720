using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Reflection;

namespace KdTools.HelpGenerator;

/// <summary>One parameter's membership of one parameter set.</summary>
internal sealed record SetMembership(string Set, bool Mandatory, int Position, bool ByValue, bool ByPropertyName);

/// <summary>One parameter, as help shows it.</summary>
internal sealed record ParameterHelp(
    string Name, Type Type, string Description, string DefaultValue, string[] Aliases, bool Globbing,
    IReadOnlyList<SetMembership> Sets)
{
    public bool IsSwitch => Type == typeof(SwitchParameter);

    public SetMembership? In(string set) =>
        Sets.FirstOrDefault(s => s.Set == set) ?? Sets.FirstOrDefault(s => s.Set == ParameterAttribute.AllParameterSets);
}

/// <summary>A type a cmdlet takes from the pipeline or writes to it, with what help says about it.</summary>
internal sealed record TypeHelp(string TypeName, IReadOnlyList<string> Description);

internal sealed record ExampleHelp(string Code, IReadOnlyList<string> Remarks);

/// <summary>Everything Get-Help shows for one cmdlet, read from its class by reflection and from its doc comments.</summary>
internal sealed record CommandHelp(
    string Name, string Verb, string Noun, string Synopsis, IReadOnlyList<string> Description,
    IReadOnlyList<string> ParameterSets, IReadOnlyList<ParameterHelp> Parameters,
    IReadOnlyList<TypeHelp> Inputs, IReadOnlyList<TypeHelp> Outputs, IReadOnlyList<ExampleHelp> Examples,
    IReadOnlyList<string> RelatedLinks)
{
    /// <summary>The conceptual topic every cmdlet links to.</summary>
    public const string AboutTopic = "about_KdTools";

    /// <summary>
    /// In a parameter's &lt;value&gt;, stands for the default read from a fresh cmdlet: a parameter declared once for
    /// several cmdlets whose constructors set different defaults (a recipe's values) says the rule once.
    /// </summary>
    public const string FreshDefault = "{default}";

    /// <summary>
    /// Reads a cmdlet class. Text comes from its doc comments: &lt;summary&gt; is the synopsis, &lt;remarks&gt; the
    /// description, each &lt;example&gt; (&lt;code&gt; and &lt;para&gt;s) an example, &lt;seealso&gt; a related link,
    /// &lt;returns&gt; the output when its type has no doc comment of its own (a .NET type such as FileInfo);
    /// a parameter's &lt;summary&gt; describes it, and its &lt;value&gt;, when present, replaces the default value read
    /// from a fresh instance of the cmdlet (<see cref="FreshDefault"/> in it is that value).
    /// </summary>
    public static CommandHelp Read(Type type, DocComments docs)
    {
        var cmdlet = type.GetCustomAttribute<CmdletAttribute>()!;
        var doc = docs.Of(type);
        var parameters = ReadParameters(type, cmdlet, docs);
        var sets = parameters.SelectMany(p => p.Sets).Select(s => s.Set).Where(s => s != ParameterAttribute.AllParameterSets)
            .Distinct().OrderBy(s => s == cmdlet.DefaultParameterSetName ? 0 : 1).ToList();
        if (sets.Count == 0) sets.Add(ParameterAttribute.AllParameterSets);
        return new CommandHelp(
            Name: $"{cmdlet.VerbName}-{cmdlet.NounName}",
            Verb: cmdlet.VerbName,
            Noun: cmdlet.NounName,
            Synopsis: docs.Line(doc?.Element("summary")),
            Description: docs.Paragraphs(doc?.Element("remarks")),
            ParameterSets: sets,
            Parameters: parameters,
            Inputs: ReadInputs(parameters),
            Outputs: type.GetCustomAttributes<OutputTypeAttribute>().SelectMany(o => o.Type)
                .Select(t => t.Type is { } output
                    ? new TypeHelp(output.FullName!, docs.Of(output)?.Element("summary") is { } summary
                        ? docs.Paragraphs(summary)
                        : docs.Paragraphs(doc?.Element("returns")))
                    : new TypeHelp(t.Name, []))
                .ToList(),
            Examples: (doc?.Elements("example") ?? [])
                .Select(e => new ExampleHelp(e.Element("code") is { } code ? DocComments.Code(code) : "", docs.Paragraphs(e)))
                .ToList(),
            RelatedLinks: [.. (doc?.Elements("seealso") ?? []).Select(docs.Line).Where(l => l.Length > 0), AboutTopic]);
    }

    private static List<ParameterHelp> ReadParameters(Type type, CmdletAttribute cmdlet, DocComments docs)
    {
        var fresh = Activator.CreateInstance(type)!;
        try
        {
            var parameters = new List<ParameterHelp>();
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                var attributes = property.GetCustomAttributes<ParameterAttribute>().ToList();
                if (attributes.Count == 0) continue;
                var doc = docs.Of(property);
                var sets = attributes.Select(a => new SetMembership(a.ParameterSetName, a.Mandatory, a.Position,
                    a.ValueFromPipeline, a.ValueFromPipelineByPropertyName)).ToList();
                var freshDefault = DefaultText(property.GetValue(fresh));
                var defaultValue = doc?.Element("value") is { } value ? docs.Line(value).Replace(FreshDefault, freshDefault)
                    : sets.All(s => s.Mandatory) ? "None"
                    : freshDefault;
                parameters.Add(new ParameterHelp(property.Name, property.PropertyType, docs.Line(doc?.Element("summary")),
                    defaultValue, property.GetCustomAttribute<AliasAttribute>()?.AliasNames.ToArray() ?? [],
                    property.GetCustomAttribute<SupportsWildcardsAttribute>() is not null, sets));
            }
            if (cmdlet.SupportsShouldProcess)
            {
                SetMembership[] everywhere = [new(ParameterAttribute.AllParameterSets, false, int.MinValue, false, false)];
                parameters.Add(new ParameterHelp("WhatIf", typeof(SwitchParameter),
                    "Shows what would happen if the cmdlet runs. The cmdlet is not run.", "False", ["wi"], false, everywhere));
                parameters.Add(new ParameterHelp("Confirm", typeof(SwitchParameter),
                    "Prompts you for confirmation before running the cmdlet.", "False", ["cf"], false, everywhere));
            }
            // Positional parameters first, in position order; then the mandatory ones; otherwise as declared.
            return parameters
                .OrderBy(p => p.Sets.Select(s => s.Position).Where(pos => pos >= 0).DefaultIfEmpty(int.MaxValue).Min())
                .ThenBy(p => p.Sets.All(s => s.Mandatory) ? 0 : 1)
                .ToList();
        }
        finally
        {
            (fresh as IDisposable)?.Dispose();
        }
    }

    private static string DefaultText(object? value) => value switch
    {
        null => "None",
        SwitchParameter s => s.IsPresent ? "True" : "False",
        string { Length: 0 } => "None",
        string s => s,
        IEnumerable items => string.Join(", ", items.Cast<object?>().Select(DefaultText)),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "None",
    };

    /// <summary>A sentence made to continue another: "The model" becomes "the model"; "CIFAR folders" stays.</summary>
    private static string Decapitalised(string sentence)
    {
        var firstWord = sentence.Split(' ')[0];
        return firstWord.Length > 0 && (firstWord.Length == 1 || char.IsLower(firstWord[1]))
            ? char.ToLowerInvariant(sentence[0]) + sentence[1..]
            : sentence;
    }

    private static List<TypeHelp> ReadInputs(List<ParameterHelp> parameters)
    {
        var inputs = new List<TypeHelp>();
        foreach (var p in parameters.Where(p => p.Sets.Any(s => s.ByValue)))
        {
            var type = Nullable.GetUnderlyingType(p.Type) ?? p.Type;
            var name = type == typeof(object) ? "System.Object" : type.FullName!;
            inputs.Add(new TypeHelp(name, [$"Bound to -{p.Name}: {Decapitalised(p.Description)}"]));
        }
        var byName = parameters.Where(p => p.Sets.Any(s => s.ByPropertyName))
            .Select(p => p.Aliases.Length == 0 ? p.Name : $"{p.Name} (or {string.Join(" or ", p.Aliases)})").ToList();
        if (byName.Count > 0)
            inputs.Add(new TypeHelp("System.Management.Automation.PSObject",
            [
                $"Any object (an Import-Csv row, say) with properties named {string.Join(", ", byName)} binds them to the " +
                "parameters of the same name.",
            ]));
        return inputs;
    }
}
