using System.Diagnostics;
using KdTools.Core;

namespace KdTools.Fuzz;

/// <summary>What a reader did with one input: read it, or refused it with a KdTools error id.</summary>
public sealed record FuzzOutcome(bool Accepted, string? ErrorId, long AllocatedBytes, TimeSpan Elapsed);

/// <summary>A reader broke its contract on an input: the reason, and what it threw (if it threw).</summary>
public sealed class ContractViolation(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The contract every reader keeps, whatever the bytes: it returns a valid result or throws a <see cref="KdException"/>
/// whose id starts with <c>KdTools.</c>; anything else (IndexOutOfRange, NullReference, Overflow, OutOfMemory, a raw
/// TorchSharp or I/O exception) is a violation. The managed memory it allocates stays within the target's budget,
/// a small multiple of the input's size (a header that claims 2^40 elements must be refused before allocating).
/// Native crashes and hangs are caught outside: AFL++ reports them, and the CI replay runs each input under a time limit.
/// </summary>
public static class FuzzContract
{
    /// <summary>Allocation allowed for any input, whatever its size: the reader's fixed costs (a network's modules,
    /// JSON and CSV buffers, TorchSharp's wrappers).</summary>
    public const long FixedBudgetBytes = 32L << 20;

    /// <summary>
    /// <see cref="Check"/> on a thread of its own, failing when one input takes longer than <paramref name="limit"/> (a hang:
    /// the thread cannot be stopped, so a hung input ends the run that found it, as it does under AFL++).
    /// </summary>
    public static FuzzOutcome CheckWithin(FuzzTarget target, byte[] bytes, string scratchRoot, TimeSpan limit)
    {
        FuzzOutcome? outcome = null;
        Exception? failure = null;
        var worker = new Thread(() =>
        {
            try { outcome = Check(target, bytes, scratchRoot); }
            catch (Exception e) { failure = e; }
        }, maxStackSize: 16 << 20) { IsBackground = true, Name = $"fuzz {target.Name}" };
        worker.Start();
        if (!worker.Join(limit))
            throw new ContractViolation($"{target.Name}: a {bytes.Length:N0}-byte input took more than {limit.TotalSeconds:F0} s (a hang)");
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
        return outcome!;
    }

    /// <summary>Runs <paramref name="target"/> on <paramref name="bytes"/> in a fresh scratch folder under
    /// <paramref name="scratchRoot"/>; throws <see cref="ContractViolation"/> when the contract is broken.</summary>
    public static FuzzOutcome Check(FuzzTarget target, byte[] bytes, string scratchRoot)
    {
        var scratch = Path.Combine(scratchRoot, "input");
        if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        Directory.CreateDirectory(scratch);
        var clock = Stopwatch.StartNew();
        long before = GC.GetAllocatedBytesForCurrentThread();
        string? errorId = null;
        try
        {
            target.Run(new FuzzInput(bytes, scratch));
        }
        catch (KdException e) when (e.ErrorId.StartsWith("KdTools.", StringComparison.Ordinal))
        {
            errorId = e.ErrorId;
        }
        catch (Exception e) when (target.Refusal is { } refusal && refusal(e))
        {
            errorId = e.GetType().Name;
        }
        catch (Exception e)
        {
            throw new ContractViolation($"{target.Name}: {e.GetType().FullName} escaped the reader: {e.Message}", e);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long budget = FixedBudgetBytes + target.MemoryFactor * bytes.LongLength;
        if (allocated > budget)
            throw new ContractViolation(
                $"{target.Name}: allocated {allocated:N0} bytes for a {bytes.Length:N0}-byte input, over its budget of {budget:N0} " +
                $"({FixedBudgetBytes >> 20} MiB + {target.MemoryFactor} x the input)");
        return new FuzzOutcome(errorId is null, errorId, allocated, clock.Elapsed);
    }
}
