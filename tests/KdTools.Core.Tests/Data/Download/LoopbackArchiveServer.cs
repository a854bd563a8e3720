using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace KdTools.Core.Tests.Data.Download;

/// <summary>
/// A minimal HTTP/1.1 file server on 127.0.0.1 (an ephemeral port), started inside a test: it serves byte arrays by
/// path, honours <c>Range: bytes=N-</c> with 206 responses, and can stop a response mid-stream (the connection closes
/// after <see cref="CutAfterBytes"/> body bytes while Content-Length promised more), as a dropped download does.
/// </summary>
internal sealed class LoopbackArchiveServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, byte[]> _files = new();
    private readonly Task _accepting;

    public LoopbackArchiveServer()
    {
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The server's root, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseUri => new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>Every request's path and Range header ("" when none), in arrival order.</summary>
    public ConcurrentQueue<(string Path, string Range)> Requests { get; } = new();

    /// <summary>When set, the next <see cref="CutResponses"/> responses stop after this many body bytes.</summary>
    public int? CutAfterBytes { get; set; }

    public int CutResponses { get; set; } = 1;

    /// <summary>Answer ranges with the whole file (200), as a server without range support does.</summary>
    public bool IgnoreRanges { get; set; }

    public void Serve(string path, byte[] content) => _files[path.TrimStart('/')] = content;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(client));
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var header = await ReadHeaderAsync(stream);
                var lines = header.Split("\r\n");
                var path = Uri.UnescapeDataString(lines[0].Split(' ')[1].TrimStart('/'));
                var range = lines.Skip(1).Select(line => line.Split(':', 2)).Where(parts => parts.Length == 2 &&
                    parts[0].Trim().Equals("Range", StringComparison.OrdinalIgnoreCase)).Select(parts => parts[1].Trim()).FirstOrDefault() ?? "";
                Requests.Enqueue((path, range));
                if (!_files.TryGetValue(path, out var content))
                {
                    await WriteAsync(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }
                long start = 0;
                if (range.StartsWith("bytes=", StringComparison.Ordinal) && !IgnoreRanges)
                    start = long.Parse(range["bytes=".Length..].TrimEnd('-'));
                if (start >= content.Length && start > 0)
                {
                    await WriteAsync(stream, $"HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */{content.Length}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    return;
                }
                var length = content.Length - start;
                var head = start > 0
                    ? $"HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {start}-{content.Length - 1}/{content.Length}\r\n"
                    : "HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\n";
                await WriteAsync(stream, head + $"Content-Type: application/gzip\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n");
                var send = (int)length;
                if (CutAfterBytes is { } cut && CutResponses > 0)
                {
                    CutResponses--;
                    send = Math.Min(send, cut);
                }
                await stream.WriteAsync(content.AsMemory((int)start, send));
                await stream.FlushAsync();
            }
            catch (IOException)
            {
                // The client went away; nothing to answer.
            }
        }
    }

    private static async Task<string> ReadHeaderAsync(NetworkStream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (!(bytes.Count >= 4 && bytes[^4] == '\r' && bytes[^3] == '\n' && bytes[^2] == '\r' && bytes[^1] == '\n'))
        {
            if (await stream.ReadAsync(one) == 0) break;
            bytes.Add(one[0]);
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }

    private static Task WriteAsync(NetworkStream stream, string text) => stream.WriteAsync(Encoding.ASCII.GetBytes(text)).AsTask();

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try
        {
            _accepting.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Stopped while accepting.
        }
        _stop.Dispose();
    }
}
