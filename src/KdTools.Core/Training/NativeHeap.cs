using System.Runtime.InteropServices;

namespace KdTools.Core.Training;

/// <summary>
/// Hands the native heap's free memory back to the system (glibc's <c>malloc_trim</c>; nothing elsewhere). libtorch
/// allocates every CPU tensor with malloc; glibc keeps what a step frees for the next one, which is what makes steps
/// fast, but the pages freed by one phase (a training epoch's activations) stay resident while the next phase (an
/// evaluation at batch 256) allocates its own, and the two add up in the peak resident set. Measured on the bench's
/// end-to-end recipe: the heap held about 500 MB of which about 460 MB were free (bench/README.md). Trimming between
/// phases costs a few milliseconds and the page faults of the next phase's first batch.
/// </summary>
internal static class NativeHeap
{
    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    private static bool s_unavailable = !OperatingSystem.IsLinux();

    public static void Trim()
    {
        if (s_unavailable) return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // musl and other C libraries have no malloc_trim.
            s_unavailable = true;
        }
    }
}
