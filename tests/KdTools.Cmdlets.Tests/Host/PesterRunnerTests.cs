using KdTools.Host;

namespace KdTools.Cmdlets.Tests.Host;

public sealed class PesterRunnerTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private (PesterSummary Summary, string Output) Run(params string[] paths)
    {
        var output = new StringWriter();
        var summary = PesterRunner.Run(paths, output);
        return (summary, output.ToString().ReplaceLineEndings("\n"));
    }

    private PesterTestResult Result(PesterSummary summary, string name) => Assert.Single(summary.Tests, t => t.Name == name);

    [Fact]
    public void PassingAndFailingItsAreCountedAndTheFailureIsReadable()
    {
        var file = _folder.Write("Math.Tests.ps1", """
            Describe 'Math' {
                It 'adds' { 1 + 1 | Should -Be 2 }
                It 'is wrong' {
                    1 + 1 | Should -Be 3
                }
                It 'compares strings' { 'abc' | Should -Be 'abd' }
            }
            """);

        var (summary, output) = Run(file);

        Assert.Equal((1, 2), (summary.Passed, summary.Failed));
        Assert.False(summary.Succeeded);
        Assert.Equal($"Expected 3, but got 2.\nat 1 + 1 | Should -Be 3, {file}:4", Result(summary, "Math > is wrong").FailureMessage);
        Assert.StartsWith(
            "Expected strings to be the same, but they were different.\nString lengths are both 3.\nStrings differ at index 2.\n" +
            "Expected: 'abd'\nBut was:  'abc'\n             ^\n".Replace("             ^", new string(' ', 11) + "--^"),
            Result(summary, "Math > compares strings").FailureMessage);
        Assert.Matches(@"  \[\+\] Math > adds \(\d+ ms\)\n", output);
        Assert.Contains("  [-] Math > is wrong (", output);
        Assert.Contains("\n      Expected 3, but got 2.\n", output);
        Assert.EndsWith("Tests: 1 passed, 2 failed\n", output);
    }

    [Fact]
    public void SetupBlocksFollowPesterScoping()
    {
        var file = _folder.Write("Scope.Tests.ps1", """
            BeforeAll {
                $fromRoot = 'root'
                function Get-Double($x) { 2 * $x }
                $log = [System.Collections.Generic.List[string]]::new()
            }
            $discoveryOnly = 'gone at run time'
            Describe 'outer' {
                BeforeAll { $base = 10 }
                BeforeEach { $log.Add('outer-before'); $perTest = 1 }
                AfterEach { $log.Add('outer-after') }
                It 'sees setup variables and functions' {
                    $base | Should -Be 10
                    $fromRoot | Should -Be 'root'
                    Get-Double 3 | Should -Be 6
                    $perTest | Should -Be 1
                    $discoveryOnly | Should -BeNullOrEmpty
                    $PSScriptRoot | Should -Be '@FOLDER@'
                }
                It 'does not see what an earlier test assigned' {
                    $perTest = 99
                    $leak = 'from this test'
                }
                It 'starts clean' { $leak | Should -BeNullOrEmpty }
                Context 'inner' {
                    BeforeAll { $inner = $base + 1 }
                    BeforeEach { $log.Add('inner-before') }
                    AfterEach { $log.Add('inner-after') }
                    It 'sees outer BeforeAll and runs hooks outside-in' {
                        $inner | Should -Be 11
                        $log.Clear()
                    }
                    It 'ran the hooks in Pester order' {
                        $log -join ',' | Should -Be 'inner-after,outer-after,outer-before,inner-before'
                    }
                }
                It 'cannot see the inner BeforeAll' { $inner | Should -BeNullOrEmpty }
            }
            """.Replace("@FOLDER@", _folder.Path));

        var (summary, _) = Run(file);

        Assert.All(summary.Tests, t => Assert.True(t.Passed, $"{t.Name}: {t.FailureMessage}"));
        Assert.Equal(6, summary.Passed);
    }

    [Fact]
    public void AnErrorInBeforeAllFailsEveryTestOfItsBlockOnly()
    {
        var file = _folder.Write("Setup.Tests.ps1", """
            Describe 'broken' {
                BeforeAll { throw 'setup exploded' }
                It 'a' { 1 | Should -Be 1 }
                Context 'nested' { It 'b' { 1 | Should -Be 1 } }
            }
            Describe 'healthy' { It 'c' { 1 | Should -Be 1 } }
            """);

        var (summary, _) = Run(file);

        Assert.Equal((1, 2), (summary.Passed, summary.Failed));
        Assert.StartsWith("BeforeAll failed: RuntimeException: setup exploded\nat ", Result(summary, "broken > a").FailureMessage);
        Assert.StartsWith("BeforeAll failed: RuntimeException: setup exploded\nat ", Result(summary, "broken > nested > b").FailureMessage);
        Assert.True(Result(summary, "healthy > c").Passed);
    }

    [Fact]
    public void ShouldThrowMatchesErrorIdAndMessageAsWildcardsLikePester5()
    {
        var file = _folder.Write("Throw.Tests.ps1", """
            Describe 'throw' {
                BeforeAll {
                    function Invoke-Failing {
                        $exception = [System.ArgumentException]::new('Checkpoint not found: run.pt')
                        throw [System.Management.Automation.ErrorRecord]::new($exception, 'KdCheckpointNotFound', 'ObjectNotFound', $null)
                    }
                }
                It 'matches' {
                    { Invoke-Failing } | Should -Throw -ErrorId 'KdCheckpointNotFound'
                    { Invoke-Failing } | Should -Throw -ErrorId 'KdCheckpoint*'
                    { Invoke-Failing } | Should -Throw 'Checkpoint not found*'
                    { Invoke-Failing } | Should -Throw -ExceptionType ([System.ArgumentException])
                    { 'fine' } | Should -Not -Throw
                    $record = { Invoke-Failing } | Should -Throw -PassThru
                    $record.TargetObject | Should -BeNullOrEmpty
                    $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
                }
                It 'wrong id' { { Invoke-Failing } | Should -Throw -ErrorId 'KdCheckpoint' }
                It 'nothing thrown' { { 'fine' } | Should -Throw }
            }
            """);

        var (summary, _) = Run(file);

        Assert.True(Result(summary, "throw > matches").Passed, Result(summary, "throw > matches").FailureMessage);
        Assert.StartsWith(
            $"Expected an exception with FullyQualifiedErrorId 'KdCheckpoint' to be thrown, but the FullyQualifiedErrorId was 'KdCheckpointNotFound'. from {file}:5\n",
            Result(summary, "throw > wrong id").FailureMessage);
        Assert.StartsWith("Expected an exception to be thrown, but no exception was thrown.\n", Result(summary, "throw > nothing thrown").FailureMessage);
    }

    [Fact]
    public void TestCasesProduceOneNamedTestEach()
    {
        var file = _folder.Write("Cases.Tests.ps1", """
            Describe 'cases' {
                It 'adds <a> and <b>' -TestCases @(
                    @{ a = 1; b = 2; sum = 3 }
                    @{ a = 2; b = 2; sum = 5 }
                ) {
                    param($a, $b, $sum)
                    $a + $b | Should -Be $sum
                }
                It 'sees <_> as $_' -ForEach 'x', 'y' { $_ | Should -BeIn 'x', 'y' }
            }
            """);

        var (summary, _) = Run(file);

        Assert.Equal(["cases > adds 1 and 2", "cases > adds 2 and 2", "cases > sees x as $_", "cases > sees y as $_"], summary.Tests.Select(t => t.Name));
        Assert.Equal([true, false, true, true], summary.Tests.Select(t => t.Passed));
    }

    [Fact]
    public void TestDriveIsAFreshFolderPerFileAndRemovedAfterwards()
    {
        var file = _folder.Write("Drive.Tests.ps1", """
            Describe 'drive' {
                It 'writes through the drive and the variable' {
                    Set-Content -Path 'TestDrive:/note.txt' -Value 'hi'
                    Join-Path $TestDrive 'note.txt' | Should -Exist
                    Get-Content (Join-Path $TestDrive 'note.txt') | Should -Be 'hi'
                    $global:kdhostTestDrive = $TestDrive
                    Write-Host "drive=$TestDrive"
                }
            }
            """);

        var (summary, output) = Run(file);

        Assert.True(Assert.Single(summary.Tests).Passed, summary.Tests[0].FailureMessage);
        var drive = output.Split('\n').Single(l => l.StartsWith("drive="))["drive=".Length..];
        Assert.False(Directory.Exists(drive));
    }

    [Fact]
    public void AFileThatFailsToLoadFailsTheRunWithoutStoppingOtherFiles()
    {
        _folder.Write("Broken.Tests.ps1", "Describe 'x' {\n    It 'y' {\n");
        _folder.Write("Good.Tests.ps1", "Describe 'good' { It 'ok' { $true | Should -BeTrue } }");
        _folder.Write("helper.ps1", "throw 'not a test file'");

        var (summary, output) = Run(_folder.Path);

        Assert.Equal((1, 0), (summary.Passed, summary.Failed));
        Assert.Contains("Broken.Tests.ps1 (discovery): ParseException:", Assert.Single(summary.ContainerFailures));
        Assert.False(summary.Succeeded);
        Assert.EndsWith("Containers failed: 1\nTests: 1 passed, 0 failed\n", output);
    }
}
