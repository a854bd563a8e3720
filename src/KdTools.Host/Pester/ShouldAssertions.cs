using System.Collections;
using System.Globalization;
using System.Management.Automation;
using System.Text;
using System.Text.RegularExpressions;
using static KdTools.Host.Pester.NicelyFormatted;

namespace KdTools.Host.Pester;

/// <summary>What one Should call compares against.</summary>
internal sealed record AssertionContext(object? Expected, bool Negate, string? Because, SessionState SessionState);

/// <summary>
/// The value assertions of Should, with Pester 5's comparison rules and failure messages.
/// Each returns null when the assertion holds, else the failure message.
/// </summary>
internal static class ShouldAssertions
{
    public delegate string? Assertion(object? actual, AssertionContext context);

    /// <summary>Operator name → (assertion, whether it receives all pipeline input at once, as Pester's array-input operators do).</summary>
    public static IReadOnlyDictionary<string, (Assertion Check, bool ArrayInput)> Operators { get; } =
        new Dictionary<string, (Assertion, bool)>(StringComparer.OrdinalIgnoreCase)
        {
            ["Be"] = (Be, true),
            ["BeExactly"] = (BeExactly, true),
            ["BeNullOrEmpty"] = (BeNullOrEmpty, true),
            ["HaveCount"] = (HaveCount, true),
            ["Contain"] = (Contain, true),
            ["BeGreaterThan"] = (Ordered(o => o > 0, "greater than", "less than or equal to"), false),
            ["BeLessThan"] = (Ordered(o => o < 0, "less than", "greater than or equal to"), false),
            ["BeGreaterOrEqual"] = (Ordered(o => o >= 0, "greater than or equal to", "less than"), false),
            ["BeLessOrEqual"] = (Ordered(o => o <= 0, "less than or equal to", "greater than"), false),
            ["BeTrue"] = (BeBoolean(true), false),
            ["BeFalse"] = (BeBoolean(false), false),
            ["BeOfType"] = (BeOfType, false),
            ["BeIn"] = (BeIn, false),
            ["BeLike"] = (Like(WildcardOptions.IgnoreCase, "like wildcard"), false),
            ["BeLikeExactly"] = (Like(WildcardOptions.None, "case sensitive like wildcard"), false),
            ["Match"] = (Matches(RegexOptions.IgnoreCase, "regular expression"), false),
            ["MatchExactly"] = (Matches(RegexOptions.None, "exactly"), false),
            ["Exist"] = (Exist, false),
        };

    private static string? Be(object? actual, AssertionContext c) => Equality(actual, c, caseSensitive: false);
    private static string? BeExactly(object? actual, AssertionContext c) => Equality(actual, c, caseSensitive: true);

    private static string? Equality(object? actual, AssertionContext c, bool caseSensitive)
    {
        if (ArraysAreEqual(AsArray(actual), AsArray(c.Expected), caseSensitive) != c.Negate) return null;
        var exactly = caseSensitive ? "exactly " : "";
        if (c.Negate)
            return $"Expected {Of(c.Expected)} to be different from the actual value,{Because(c.Because)} but got {exactly}the same value.";
        var (shownActual, shownExpected) = (Single(actual), Single(c.Expected));
        if (shownActual is string actualText && shownExpected is string expectedText)
            return StringDifference(expectedText, actualText, caseSensitive, c.Because);
        return $"Expected {exactly}{Of(shownExpected)},{Because(c.Because)} but got {Of(shownActual)}.";
    }

    private static string? BeNullOrEmpty(object? actual, AssertionContext c)
    {
        var values = AsArray(actual);
        var empty = values is null || values.Length == 0 || (values.Length == 1 && Unwrap(values[0]) switch
        {
            null => true,
            Hashtable table => table.Count == 0,
            var single => string.IsNullOrEmpty(single.ToString()),
        });
        if (empty != c.Negate) return null;
        return c.Negate
            ? $"Expected a value,{Because(c.Because)} but got $null or empty."
            : $"Expected $null or empty,{Because(c.Because)} but got {Of(Single(actual))}.";
    }

    private static string? HaveCount(object? actual, AssertionContext c)
    {
        var expected = LanguagePrimitives.ConvertTo<int>(c.Expected);
        var count = AsArray(actual)?.Length ?? 0;
        if ((count == expected) != c.Negate) return null;
        var expect = (c.Negate, expected == 0) switch
        {
            (true, true) => "Expected a non-empty collection",
            (true, false) => $"Expected a collection with size different from {expected}",
            (false, true) => "Expected an empty collection",
            (false, false) => $"Expected a collection with size {expected}",
        };
        var but = count == 0 ? "but got an empty collection."
            : c.Negate ? $"but got collection with that size {Of(actual)}." : $"but got collection with size {count} {Of(actual)}.";
        return $"{expect},{Because(c.Because)} {but}";
    }

    private static string? Contain(object? actual, AssertionContext c)
    {
        var found = (AsArray(actual) ?? []).Any(item => LanguagePrimitives.Equals(item, c.Expected, ignoreCase: true, CultureInfo.InvariantCulture));
        if (found != c.Negate) return null;
        return c.Negate
            ? $"Expected {Of(c.Expected)} to not be found in collection {Of(actual)},{Because(c.Because)} but it was found."
            : $"Expected {Of(c.Expected)} to be found in collection {Of(actual)},{Because(c.Because)} but it was not found.";
    }

    private static string? BeIn(object? actual, AssertionContext c)
    {
        var found = (AsArray(c.Expected) ?? []).Any(item => LanguagePrimitives.Equals(item, actual, ignoreCase: true, CultureInfo.InvariantCulture));
        if (found != c.Negate) return null;
        return c.Negate
            ? $"Expected collection {Of(c.Expected)} to not contain {Of(actual)},{Because(c.Because)} but it was found."
            : $"Expected collection {Of(c.Expected)} to contain {Of(actual)},{Because(c.Because)} but it was not found.";
    }

    private static Assertion Ordered(Func<int, bool> holds, string relation, string negatedRelation) => (actual, c) =>
    {
        var order = LanguagePrimitives.Compare(Unwrap(actual), Unwrap(c.Expected), ignoreCase: true, CultureInfo.InvariantCulture);
        if (holds(order) != c.Negate) return null;
        return $"Expected the actual value to be {(c.Negate ? negatedRelation : relation)} {Of(c.Expected)},{Because(c.Because)} but got {Of(actual)}.";
    };

    private static Assertion BeBoolean(bool expected) => (actual, c) =>
    {
        if ((LanguagePrimitives.IsTrue(actual) == expected) != c.Negate) return null;
        var shown = expected != c.Negate ? "$true" : "$false";
        return $"Expected {shown},{Because(c.Because)} but got {Of(actual)}.";
    };

    private static string? BeOfType(object? actual, AssertionContext c)
    {
        var type = Unwrap(c.Expected) switch
        {
            Type given => given,
            string name => LanguagePrimitives.ConvertTo<Type>(Regex.Replace(name, @"^\[(.*)\]$", "$1")),
            var other => throw new PSArgumentException($"-BeOfType needs a type such as [int] or 'System.String', not {Of(other)}."),
        };
        var value = Unwrap(actual);
        if ((value is not null && type.IsInstanceOfType(value)) != c.Negate) return null;
        var not = c.Negate ? "not " : "";
        return $"Expected the value to {not}have type {Of(type)} or any of its subtypes,{Because(c.Because)} but got {Of(actual)} with type {Of(value?.GetType())}.";
    }

    private static Assertion Like(WildcardOptions options, string description) => (actual, c) =>
    {
        var pattern = c.Expected?.ToString() ?? "";
        if (WildcardPattern.Get(pattern, options).IsMatch(Text(actual)) != c.Negate) return null;
        return c.Negate
            ? $"Expected {description} {Of(pattern)} to not match {Of(actual)},{Because(c.Because)} but it did match."
            : $"Expected {description} {Of(pattern)} to match {Of(actual)},{Because(c.Because)} but it did not match.";
    };

    private static Assertion Matches(RegexOptions options, string description) => (actual, c) =>
    {
        var pattern = c.Expected?.ToString() ?? "";
        if (Regex.IsMatch(Text(actual), pattern, options) != c.Negate) return null;
        return c.Negate
            ? $"Expected {description} {Of(pattern)} to not match {Of(actual)},{Because(c.Because)} but it did match."
            : $"Expected {description} {Of(pattern)} to match {Of(actual)},{Because(c.Because)} but it did not match.";
    };

    private static string? Exist(object? actual, AssertionContext c)
    {
        var path = Text(actual);
        var exists = path.Length > 0 && c.SessionState.InvokeProvider.Item.Exists(path);
        if (exists != c.Negate) return null;
        return c.Negate
            ? $"Expected path {Of(path)} to not exist,{Because(c.Because)} but it did exist."
            : $"Expected path {Of(path)} to exist,{Because(c.Because)} but it did not exist.";
    }

    /// <summary>Pester's element-wise equality: null, empty and @($null) are all alike; nested arrays compare recursively.</summary>
    private static bool ArraysAreEqual(object?[]? actual, object?[]? expected, bool caseSensitive)
    {
        static bool NullOrEmpty(object?[]? values) => values is null || values.Length == 0 || (values.Length == 1 && Unwrap(values[0]) is null);
        if (NullOrEmpty(actual) || NullOrEmpty(expected)) return NullOrEmpty(actual) && NullOrEmpty(expected);
        if (actual!.Length != expected!.Length) return false;
        for (var i = 0; i < actual.Length; i++)
        {
            var equal = Unwrap(actual[i]) is Array || Unwrap(expected[i]) is Array
                ? ArraysAreEqual(AsArray(actual[i]), AsArray(expected[i]), caseSensitive)
                // Expected on the left, as Pester does: the actual value is converted to the expected value's type.
                : LanguagePrimitives.Equals(expected[i], actual[i], ignoreCase: !caseSensitive, CultureInfo.InvariantCulture);
            if (!equal) return false;
        }
        return true;
    }

    private static string StringDifference(string expected, string actual, bool caseSensitive, string? because)
    {
        var comparison = caseSensitive ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
        var index = 0;
        while (index < Math.Min(expected.Length, actual.Length) && string.Compare(expected, index, actual, index, 1, comparison) == 0) index++;
        var text = new StringBuilder().AppendLine($"Expected strings to be the same,{Because(because)} but they were different.");
        if (expected.Length != actual.Length)
            text.AppendLine($"Expected length: {expected.Length}").AppendLine($"Actual length:   {actual.Length}");
        else
            text.AppendLine($"String lengths are both {expected.Length}.");
        return text.AppendLine($"Strings differ at index {index}.")
            .AppendLine($"Expected: '{Escape(expected)}'")
            .AppendLine($"But was:  '{Escape(actual)}'")
            .Append(new string(' ', 11) + new string('-', Escape(actual[..index]).Length) + "^")
            .ToString();
    }

    private static string Escape(string text) => text.Replace("\r", "\\r").Replace("\n", "\\n").Replace("\t", "\\t");

    /// <summary>Like PowerShell's [object[]] conversion: arrays and lists are their elements, anything else a single element.</summary>
    private static object?[]? AsArray(object? value) => Unwrap(value) switch
    {
        null => null,
        string text => [text],
        IList list => list.Cast<object?>().ToArray(),
        var single => [single],
    };

    /// <summary>Pester unrolls a single-element array before showing it.</summary>
    private static object? Single(object? value) => AsArray(value) is [var only] ? Unwrap(only) : Unwrap(value);

    private static string Text(object? value) => Unwrap(value) is { } v ? PSObject.AsPSObject(v).ToString() : "";

    private static object? Unwrap(object? value) =>
        value is PSObject wrapped && wrapped.BaseObject is not PSCustomObject ? wrapped.BaseObject : value;
}
