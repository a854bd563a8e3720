using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace KdTools.Core.Data.Download;

/// <summary>
/// Downloads one file over HTTP into a <c>.part</c> file, resuming a part left by an earlier attempt with a range
/// request. Reads block the calling thread (so progress is reported on it) but honour the cancellation token, and a
/// connection that delivers nothing for <see cref="IdleTimeout"/> counts as interrupted.
/// </summary>
internal static class HttpArchiveDownload
{
    private const int BufferBytes = 1 << 16;

    /// <summary>How long a read may wait for data before the download counts as interrupted.</summary>
    internal static TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    // One client for the process (connection reuse, no socket exhaustion). Content is stored as served: no automatic
    // decompression, which would break range requests and checksums.
    private static readonly HttpClient Client = CreateClient();

    private static HttpClient CreateClient()
    {
        var client = new HttpClient(new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = TimeSpan.FromSeconds(30),
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        }) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("KdTools", typeof(HttpArchiveDownload).Assembly.GetName().Version?.ToString(3)));
        return client;
    }

    /// <summary>Downloads <paramref name="uri"/> into <paramref name="part"/>, appending to what is already there when the server supports ranges.</summary>
    public static void Download(Uri uri, string part, DatasetArchive archive, Action<long, long?> progress, ILogger logger,
        CancellationToken cancellation)
    {
        long existing = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (existing > 0) request.Headers.Range = new RangeHeaderValue(existing, null);

        using var response = Send(request, uri, cancellation);
        if (existing > 0 && response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            logger.LogInformation("'{Part}' is already complete ({Bytes} bytes)", part, existing);
            return;
        }
        if (!response.IsSuccessStatusCode)
            throw Unreachable(uri, $"the server answered {(int)response.StatusCode} {response.ReasonPhrase}", null);

        var resumes = existing > 0 && response.StatusCode == HttpStatusCode.PartialContent &&
                      response.Content.Headers.ContentRange?.From == existing;
        if (existing > 0)
            logger.LogInformation(resumes ? "Resuming '{Uri}' at byte {Bytes}" : "'{Uri}' cannot be resumed (no range support); starting again from byte 0 of {Bytes} kept",
                uri, existing);
        long done = resumes ? existing : 0;
        long? total = resumes ? response.Content.Headers.ContentRange?.Length ?? existing + response.Content.Headers.ContentLength
            : response.Content.Headers.ContentLength;
        EnsureRoom(part, (total ?? archive.ApproximateBytes) - done + archive.ApproximateBytes);

        var buffer = new byte[BufferBytes];
        using var input = response.Content.ReadAsStreamAsync(cancellation).GetAwaiter().GetResult();
        using var output = OpenPart(part, resumes);
        while (true)
        {
            var read = ReadSome(input, buffer, uri, part, done, total, cancellation);
            if (read == 0) break;
            try
            {
                output.Write(buffer, 0, read);
            }
            catch (IOException ex)
            {
                throw DatasetDownload.WriteFailure(ex, part);
            }
            done += read;
            progress(done, total);
        }
        try
        {
            output.Flush(flushToDisk: true);
        }
        catch (IOException ex)
        {
            throw DatasetDownload.WriteFailure(ex, part);
        }
        if (total is { } expected && done < expected)
            throw Interrupted(uri, part, done, total, "the server closed the connection");
    }

    private static HttpResponseMessage Send(HttpRequestMessage request, Uri uri, CancellationToken cancellation)
    {
        try
        {
            return Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation).GetAwaiter().GetResult();
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(uri, ex.Message, ex);
        }
        catch (OperationCanceledException ex) when (!cancellation.IsCancellationRequested)
        {
            throw Unreachable(uri, "no answer in time", ex);
        }
    }

    /// <summary>One read, bounded by <see cref="IdleTimeout"/>; a failed or stalled connection is an interruption.</summary>
    private static int ReadSome(Stream input, byte[] buffer, Uri uri, string part, long done, long? total, CancellationToken cancellation)
    {
        using var idle = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        idle.CancelAfter(IdleTimeout);
        try
        {
            return input.ReadAsync(buffer, idle.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException ex) when (!cancellation.IsCancellationRequested)
        {
            throw Interrupted(uri, part, done, total, $"no data for {IdleTimeout.TotalSeconds:0} s", ex);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw Interrupted(uri, part, done, total, ex.Message, ex);
        }
    }

    private static FileStream OpenPart(string part, bool append)
    {
        try
        {
            return new FileStream(part, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferBytes);
        }
        catch (IOException ex)
        {
            throw DatasetDownload.WriteFailure(ex, part);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new KdException(KdErrorIds.DatasetWriteFailed, KdErrorKind.PermissionDenied,
                $"cannot write '{part}': permission denied; pass a -Path you can write to", part, ex);
        }
    }

    /// <summary>Fails before downloading when the disk cannot hold the rest of the archive and its extracted files.</summary>
    private static void EnsureRoom(string part, long needed)
    {
        long free;
        try
        {
            free = new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(part))!).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return; // Unknown: the writes themselves will tell.
        }
        if (free < needed)
            throw new KdException(KdErrorIds.DatasetDiskFull, KdErrorKind.WriteError,
                $"the disk holding '{Path.GetDirectoryName(part)}' has {free / 1_000_000} MB free, but the download and its " +
                $"extraction need about {needed / 1_000_000} MB; free some space or pass another -Path", part);
    }

    private static KdException Unreachable(Uri uri, string reason, Exception? inner) =>
        new(KdErrorIds.DatasetSourceUnreachable, KdErrorKind.ResourceUnavailable,
            $"cannot download '{uri}': {reason}; check the network, or pass a mirror (-Source https://…/) or a local " +
            "copy of the archive (-Source <file>)", uri.AbsoluteUri, inner);

    private static KdException Interrupted(Uri uri, string part, long done, long? total, string reason, Exception? inner = null) =>
        new(KdErrorIds.DatasetDownloadInterrupted, KdErrorKind.ResourceUnavailable,
            $"the download of '{uri}' stopped after {done} of {(total is { } t ? t.ToString() : "?")} bytes ({reason}); " +
            $"the part is kept in '{part}': run the same command again to resume it", uri.AbsoluteUri, inner);
}
