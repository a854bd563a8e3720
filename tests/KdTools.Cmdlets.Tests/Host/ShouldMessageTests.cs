using KdTools.Host;

namespace KdTools.Cmdlets.Tests.Host;

/// <summary>Runs one test file with a failing It per assertion and checks each message against Pester 5's wording.</summary>
public sealed class ShouldMessageFixture : IDisposable
{
    public static readonly (string Assertion, string Message)[] Cases =
    [
        ("2 | Should -BeGreaterThan 3", "Expected the actual value to be greater than 3, but got 2."),
        ("3 | Should -BeLessThan 3", "Expected the actual value to be less than 3, but got 3."),
        ("2 | Should -BeGreaterOrEqual 3", "Expected the actual value to be greater than or equal to 3, but got 2."),
        ("4 | Should -BeLessOrEqual 3", "Expected the actual value to be less than or equal to 3, but got 4."),
        ("4 | Should -Not -Be 4", "Expected 4 to be different from the actual value, but got the same value."),
        ("'a' | Should -BeExactly 'a', 'b'", "Expected exactly @('a', 'b'), but got 'a'."),
        ("$false | Should -BeTrue", "Expected $true, but got $false."),
        ("1 | Should -BeFalse -Because 'it is off'", "Expected $false, because it is off, but got 1."),
        ("'x' | Should -BeNullOrEmpty", "Expected $null or empty, but got 'x'."),
        ("@() | Should -Not -BeNullOrEmpty", "Expected a value, but got $null or empty."),
        ("1, 2 | Should -HaveCount 3", "Expected a collection with size 3, but got collection with size 2 @(1, 2)."),
        ("@() | Should -Not -HaveCount 0", "Expected a non-empty collection, but got an empty collection."),
        ("5 | Should -BeOfType [string]", "Expected the value to have type [System.String] or any of its subtypes, but got 5 with type [System.Int32]."),
        ("1, 2 | Should -Contain 3", "Expected 3 to be found in collection @(1, 2), but it was not found."),
        ("'x' | Should -BeIn 'a', 'b'", "Expected collection @('a', 'b') to contain 'x', but it was not found."),
        ("'abc' | Should -BeLike 'b*'", "Expected like wildcard 'b*' to match 'abc', but it did not match."),
        ("'abc' | Should -Match '^b'", "Expected regular expression '^b' to match 'abc', but it did not match."),
        ("'ABC' | Should -MatchExactly 'abc'", "Expected exactly 'abc' to match 'ABC', but it did not match."),
        ("'/no/such/path' | Should -Exist", "Expected path '/no/such/path' to exist, but it did not exist."),
        ("{ throw 'boom' } | Should -Not -Throw", "Expected no exception to be thrown, but an exception \"boom\" was thrown from "),
        ("1 | Should", "PSArgumentException: Should needs exactly one operator (such as -Be, -BeTrue, -Throw); got none."),
    ];

    private readonly TempFolder _folder = new();

    public ShouldMessageFixture()
    {
        var its = Cases.Select((c, i) => $"    It 'case {i}' {{ {c.Assertion} }}");
        var file = _folder.Write("Should.Tests.ps1", "Describe 'should' {\n" + string.Join("\n", its) + "\n}\n");
        Summary = PesterRunner.Run([file], TextWriter.Null);
    }

    public PesterSummary Summary { get; }

    public void Dispose() => _folder.Dispose();
}

public sealed class ShouldMessageTests(ShouldMessageFixture fixture) : IClassFixture<ShouldMessageFixture>
{
    public static TheoryData<int> CaseIndexes => new(Enumerable.Range(0, ShouldMessageFixture.Cases.Length));

    [Theory]
    [MemberData(nameof(CaseIndexes))]
    public void AFailingAssertionReportsPesterWording(int index)
    {
        var result = Assert.Single(fixture.Summary.Tests, t => t.Name == $"should > case {index}");

        Assert.False(result.Passed);
        Assert.StartsWith(ShouldMessageFixture.Cases[index].Message, result.FailureMessage);
    }

    [Fact]
    public void EveryCaseRan() => Assert.Equal(ShouldMessageFixture.Cases.Length, fixture.Summary.Failed);
}
