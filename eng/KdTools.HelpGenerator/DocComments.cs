using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace KdTools.HelpGenerator;

/// <summary>
/// An assembly's XML documentation file, rendered to the plain text help shows: whitespace collapsed (doc comments are
/// wrapped for the source, help wraps for the console), inline tags replaced by their text.
/// </summary>
internal sealed partial class DocComments(string path, Func<string, string> crefText)
{
    private readonly Dictionary<string, XElement> _members = XDocument.Load(path).Descendants("member")
        .ToDictionary(m => (string)m.Attribute("name")!, m => m);

    public XElement? Of(Type type) => _members.GetValueOrDefault("T:" + DocName(type));

    public XElement? Of(PropertyInfo property) =>
        _members.GetValueOrDefault($"P:{DocName(property.DeclaringType!)}.{property.Name}");

    private static string DocName(Type type) => type.FullName!.Replace('+', '.');

    /// <summary>The element's text as one line.</summary>
    public string Line(XElement? element) => element is null ? "" : Collapse(Inline(element));

    /// <summary>
    /// The element's paragraphs: each &lt;para&gt;, and each run of text around them, is one; a &lt;list&gt; gives one
    /// bulleted paragraph per item.
    /// </summary>
    public List<string> Paragraphs(XElement? element)
    {
        var paragraphs = new List<string>();
        if (element is null) return paragraphs;
        var loose = new StringBuilder();
        void EndLoose()
        {
            var text = Collapse(loose.ToString());
            if (text.Length > 0) paragraphs.Add(text);
            loose.Clear();
        }
        foreach (var node in element.Nodes())
        {
            switch (node)
            {
                case XElement { Name.LocalName: "para" } para:
                    EndLoose();
                    paragraphs.AddRange(Paragraphs(para));
                    break;
                case XElement { Name.LocalName: "list" } list:
                    EndLoose();
                    paragraphs.AddRange(list.Elements("item").Select(item => "- " + Line(item)));
                    break;
                case XElement { Name.LocalName: "code" }:
                    break; // examples' code is read separately (Code)
                default:
                    loose.Append(Inline(node));
                    break;
            }
        }
        EndLoose();
        return paragraphs;
    }

    /// <summary>A &lt;code&gt; block as written: lines kept, the common indentation and blank edges removed.</summary>
    public static string Code(XElement code)
    {
        var lines = code.Value.Replace("\r\n", "\n").Split('\n').ToList();
        while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[0])) lines.RemoveAt(0);
        while (lines.Count > 0 && string.IsNullOrWhiteSpace(lines[^1])) lines.RemoveAt(lines.Count - 1);
        var indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..].TrimEnd() : l.Trim()));
    }

    private string Inline(XNode node) => node switch
    {
        XText text => text.Value,
        XElement { Name.LocalName: "see" or "seealso" } see when see.Attribute("cref") is { } cref => crefText(cref.Value),
        XElement { Name.LocalName: "see" } see when see.Attribute("langword") is { } word => word.Value,
        XElement { Name.LocalName: "paramref" or "typeparamref" } reference => "-" + (string?)reference.Attribute("name"),
        XElement element => string.Concat(element.Nodes().Select(Inline)),
        _ => "",
    };

    private static string Collapse(string text) => Whitespace().Replace(text, " ").Trim();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
