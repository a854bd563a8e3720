using System.Collections;
using System.Management.Automation;

namespace KdTools.Host.Pester;

/// <summary>A Describe or Context block (or a test file's root) as found during discovery.</summary>
public sealed class TestBlock(string name, TestBlock? parent)
{
    public string Name { get; } = name;
    public TestBlock? Parent { get; } = parent;
    public bool IsBlock => true;
    public List<ScriptBlock> BeforeAll { get; } = [];
    public List<ScriptBlock> AfterAll { get; } = [];
    public List<ScriptBlock> BeforeEach { get; } = [];
    public List<ScriptBlock> AfterEach { get; } = [];

    /// <summary>Tests and nested blocks in file order (<see cref="TestCase"/> or <see cref="TestBlock"/>).</summary>
    public List<object> Items { get; } = [];

    /// <summary>Names from the outermost Describe down to this block; the file root has none.</summary>
    public IEnumerable<string> Path => Parent is null ? [] : Parent.Path.Append(Name);

    public IEnumerable<TestCase> AllTests() =>
        Items.SelectMany(item => item is TestBlock block ? block.AllTests() : [(TestCase)item]);
}

/// <summary>One It (one per test case with -TestCases / -ForEach).</summary>
public sealed class TestCase(string name, TestBlock block, ScriptBlock body, Hashtable data, object? currentItem)
{
    public string Name { get; } = name;
    public TestBlock Block { get; } = block;
    public bool IsBlock => false;
    public ScriptBlock Body { get; } = body;

    /// <summary>The test case's values: defined as variables in the test's scope and splatted when the body has a param block.</summary>
    public Hashtable Data { get; } = data;

    /// <summary>The -ForEach item, visible as $_ in the test.</summary>
    public object? CurrentItem { get; } = currentItem;

    public bool TakesParameters => Body.Ast is System.Management.Automation.Language.ScriptBlockAst { ParamBlock: not null };

    /// <summary>BeforeEach blocks from the outermost block inwards, as Pester runs them.</summary>
    public IEnumerable<ScriptBlock> BeforeEach => Ancestry().Reverse().SelectMany(b => b.BeforeEach);

    /// <summary>AfterEach blocks from the innermost block outwards.</summary>
    public IEnumerable<ScriptBlock> AfterEach => Ancestry().SelectMany(b => b.AfterEach);

    public string FullName => string.Join(" > ", Block.Path.Append(Name));

    private IEnumerable<TestBlock> Ancestry()
    {
        for (var block = Block; block is not null; block = block.Parent) yield return block;
    }
}

/// <summary>Collects the tree while a test file runs; the DSL commands find it through a session variable.</summary>
internal sealed class Discovery
{
    public const string VariableName = "__PesterLiteDiscovery";

    private TestBlock _current;

    public Discovery() => _current = Root = new TestBlock("", null);

    public TestBlock Root { get; }
    public TestBlock Current => _current;

    public void InBlock(string name, Action discover)
    {
        var block = new TestBlock(name, _current);
        _current.Items.Add(block);
        _current = block;
        try { discover(); }
        finally { _current = block.Parent!; }
    }
}
