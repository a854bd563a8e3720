namespace KdTools.Core.IO;

/// <summary>
/// Writes a file so that it appears under its name only once complete: the bytes go to a hidden temporary file in the
/// same folder, are flushed to disk, and the temporary file is then renamed over the target. A crash or a failed write
/// never leaves a partial file, and an existing file is replaced in one step.
/// </summary>
internal static class AtomicFile
{
    private const int BufferBytes = 64 * 1024;

    /// <summary>
    /// Creates the folder of <paramref name="path"/> when missing, then writes the file through <paramref name="write"/>.
    /// </summary>
    /// <param name="path">The file to write (absolute, or relative to the process's current directory).</param>
    /// <param name="write">Writes the whole content to the stream it is given.</param>
    /// <param name="errorId">The <see cref="KdErrorIds"/> id a failure to write is reported with.</param>
    /// <param name="what">What the file is ("checkpoint", "plot"), for the message.</param>
    /// <exception cref="KdException"><paramref name="errorId"/> with <see cref="KdErrorKind.PermissionDenied"/> when the
    /// system refuses access, or <see cref="KdErrorKind.WriteError"/> for any other I/O failure; the message and target
    /// name <paramref name="path"/>, never the temporary file.</exception>
    public static void Write(string path, Action<Stream> write, string errorId, string what)
    {
        var target = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(target)!;
        var temporary = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.tmp");
        try
        {
            if (Directory.Exists(target))
                throw new KdException(errorId, KdErrorKind.WriteError,
                    $"cannot write the {what} '{target}': a folder has that name; choose a file name", target);
            Directory.CreateDirectory(folder);
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            DeleteQuietly(temporary);
            throw Failure(ex, target, temporary, errorId, what);
        }
        catch
        {
            DeleteQuietly(temporary);
            throw;
        }
    }

    /// <summary>
    /// The failure in terms of the target. The system's message names whichever path it was working on, often the
    /// temporary file: the two common causes are told from the paths, anything else keeps the system's words with the
    /// temporary file's name replaced by the target's.
    /// </summary>
    private static KdException Failure(Exception ex, string target, string temporary, string errorId, string what)
    {
        var folder = Path.GetDirectoryName(target)!;
        if (BlockingFile(folder) is { } file)
            return new KdException(errorId, KdErrorKind.WriteError,
                $"cannot write the {what} '{target}': '{file}' is a file, not a folder; choose another folder or move that file", target, ex);
        if (ex is UnauthorizedAccessException)
            return new KdException(errorId, KdErrorKind.PermissionDenied,
                $"cannot write the {what} '{target}': permission denied in '{folder}' (read-only folder or file?); choose a folder you can write to", target, ex);
        return new KdException(errorId, KdErrorKind.WriteError,
            $"cannot write the {what} '{target}': {ex.Message.Replace(temporary, target)}", target, ex);
    }

    /// <summary>The nearest ancestor of <paramref name="folder"/> (or itself) that exists as a file, if any.</summary>
    private static string? BlockingFile(string folder)
    {
        for (var current = folder; !string.IsNullOrEmpty(current); current = Path.GetDirectoryName(current))
        {
            if (File.Exists(current)) return current;
            if (Directory.Exists(current)) return null;
        }
        return null;
    }

    private static void DeleteQuietly(string file)
    {
        try
        {
            File.Delete(file);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The write already failed; that failure is what the caller must hear about.
        }
    }
}
