using System.Management.Automation;
using static KdTools.Host.Pester.NicelyFormatted;

namespace KdTools.Host.Pester;

/// <summary>A failed Should assertion; PesterRunner shows its message without the exception type.</summary>
public sealed class ShouldAssertionException(string message) : Exception(message);

/// <summary>
/// Pester 5's Should with one operator switch. Value operators see pipeline input the way Pester's do: array-input
/// operators (Be, BeExactly, BeNullOrEmpty, HaveCount, Contain) receive all items at once, the others are checked per item.
/// </summary>
[Cmdlet("Assert", "PesterLiteShould")]
public sealed class ShouldCommand : PSCmdlet
{
    private static readonly string[] OperatorNames = [.. ShouldAssertions.Operators.Keys, "Throw"];
    private readonly List<object?> _inputs = [];

    [Parameter(ValueFromPipeline = true)] public object? ActualValue { get; set; }

    [Parameter(Position = 0), Alias("ExpectedType", "RegularExpression", "ExpectedMessage")]
    public object? ExpectedValue { get; set; }

    [Parameter(Position = 1)] public string? Because { get; set; }
    [Parameter] public SwitchParameter Not { get; set; }

    [Parameter] public SwitchParameter Be { get; set; }
    [Parameter] public SwitchParameter BeExactly { get; set; }
    [Parameter] public SwitchParameter BeGreaterThan { get; set; }
    [Parameter] public SwitchParameter BeLessThan { get; set; }
    [Parameter] public SwitchParameter BeGreaterOrEqual { get; set; }
    [Parameter] public SwitchParameter BeLessOrEqual { get; set; }
    [Parameter] public SwitchParameter BeTrue { get; set; }
    [Parameter] public SwitchParameter BeFalse { get; set; }
    [Parameter] public SwitchParameter BeNullOrEmpty { get; set; }
    [Parameter] public SwitchParameter HaveCount { get; set; }
    [Parameter, Alias("HaveType")] public SwitchParameter BeOfType { get; set; }
    [Parameter] public SwitchParameter Contain { get; set; }
    [Parameter] public SwitchParameter BeIn { get; set; }
    [Parameter] public SwitchParameter BeLike { get; set; }
    [Parameter] public SwitchParameter BeLikeExactly { get; set; }
    [Parameter] public SwitchParameter Match { get; set; }
    [Parameter] public SwitchParameter MatchExactly { get; set; }
    [Parameter] public SwitchParameter Exist { get; set; }
    [Parameter] public SwitchParameter Throw { get; set; }

    /// <summary>-Throw: wildcard pattern the error's FullyQualifiedErrorId must match (`-like`, as Pester 5).</summary>
    [Parameter] public string? ErrorId { get; set; }

    /// <summary>-Throw: the exception must be of this type or derive from it.</summary>
    [Parameter] public Type? ExceptionType { get; set; }

    /// <summary>-Throw: output the caught ErrorRecord.</summary>
    [Parameter] public SwitchParameter PassThru { get; set; }

    protected override void ProcessRecord() => _inputs.Add(ActualValue);

    protected override void EndProcessing()
    {
        var chosen = OperatorNames.Where(name => MyInvocation.BoundParameters.TryGetValue(name, out var on) && ((SwitchParameter)on).IsPresent).ToList();
        if (chosen.Count != 1)
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException(
                $"Should needs exactly one operator (such as -Be, -BeTrue, -Throw); got {(chosen.Count == 0 ? "none" : string.Join(", ", chosen))}."),
                "ShouldOperatorMissing", ErrorCategory.InvalidArgument, null));

        if (chosen[0] == "Throw") { AssertThrows(_inputs.LastOrDefault()); return; }

        var (check, arrayInput) = ShouldAssertions.Operators[chosen[0]];
        var context = new AssertionContext(ExpectedValue, Not, Because, SessionState);
        if (arrayInput) Fail(check(_inputs.Count == 0 ? null : _inputs.ToArray(), context));
        else if (_inputs.Count == 0) Fail(check(null, context));
        else foreach (var input in _inputs) Fail(check(input, context));
    }

    private void AssertThrows(object? actual)
    {
        if (PSObject.AsPSObject(actual ?? new object()).BaseObject is not ScriptBlock script)
        {
            ThrowTerminatingError(new ErrorRecord(new PSArgumentException(
                "Input is missing or not a ScriptBlock. Input to '-Throw' and '-Not -Throw' must be enclosed in curly braces."),
                "ShouldThrowNeedsScriptBlock", ErrorCategory.InvalidArgument, actual));
            return;
        }
        // Caught in PowerShell so the record is exactly what a test's own catch block would see as $_.
        var probe = ScriptBlock.Create("param($__plScript) try { $null = & $__plScript } catch { $_ }");
        var thrown = probe.Invoke(script).Select(o => o.BaseObject).OfType<ErrorRecord>().FirstOrDefault();
        var thrownAt = thrown?.InvocationInfo is { ScriptName.Length: > 0 } at ? $" from {at.ScriptName}:{at.ScriptLineNumber}" : "";

        if (Not)
        {
            if (thrown is not null)
                Fail($"Expected no exception to be thrown,{NicelyFormatted.Because(Because)} but an exception \"{thrown.Exception.Message}\" was thrown{thrownAt}.");
            return;
        }

        var filters = new List<string>();
        var buts = new List<string>();
        if (ExceptionType is not null)
        {
            filters.Add($"type {Of(ExceptionType)}");
            if (thrown is not null && !ExceptionType.IsInstanceOfType(thrown.Exception)) buts.Add($"the exception type was {Of(thrown.Exception.GetType())}");
        }
        var expectedMessage = ExpectedValue?.ToString();
        if (!string.IsNullOrWhiteSpace(expectedMessage))
        {
            filters.Add($"message like {Of(WildcardPattern.Unescape(expectedMessage))}");
            if (thrown is not null && !IsLike(thrown.Exception.Message, expectedMessage)) buts.Add($"the message was {Of(thrown.Exception.Message)}");
        }
        if (!string.IsNullOrWhiteSpace(ErrorId))
        {
            filters.Add($"FullyQualifiedErrorId {Of(ErrorId)}");
            if (thrown is not null && !IsLike(thrown.FullyQualifiedErrorId, ErrorId)) buts.Add($"the FullyQualifiedErrorId was {Of(thrown.FullyQualifiedErrorId)}");
        }
        if (thrown is null) buts.Add("no exception was thrown");

        if (buts.Count > 0)
        {
            var with = filters.Count > 0 ? " with " + JoinAnd(filters) : "";
            Fail($"Expected an exception{with} to be thrown,{NicelyFormatted.Because(Because)} but {JoinAnd(buts)}.{thrownAt}");
        }
        if (PassThru) WriteObject(thrown);
    }

    private static bool IsLike(string actual, string pattern) => WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase).IsMatch(actual);

    private static string JoinAnd(List<string> items) =>
        items.Count == 1 ? items[0] : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];

    private void Fail(string? message)
    {
        if (message is null) return;
        ThrowTerminatingError(new ErrorRecord(new ShouldAssertionException(message), "PesterAssertionFailed", ErrorCategory.InvalidResult, null));
    }
}
