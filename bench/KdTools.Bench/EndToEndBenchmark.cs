using System.Diagnostics;
using KdTools.Core.Data;
using KdTools.Core.Methods;
using KdTools.Core.Models;
using KdTools.Core.Training;

namespace KdTools.Bench;

/// <summary>
/// A whole recipe through the engine, as a user runs it: a resnet20 teacher trained with CE, then a resnet8 student
/// distilled from it with KD, on the synthetic set (32 px, <see cref="Classes"/> classes), standard augmentation, an
/// evaluation and the last (and best) checkpoints every epoch. bench/pytorch/e2e_torch.py runs the same recipe.
/// </summary>
internal static class EndToEndBenchmark
{
    public const string Teacher = "resnet20", Student = "resnet8";
    public const int Classes = 10, TrainCount = 1024, TestCount = 512, ImageSize = 32, BatchSize = 64, Epochs = 2;

    public static Dictionary<string, object> Run(BenchOptions o)
    {
        var folder = Path.Combine(Path.GetTempPath(), "kdtools-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            // Making the synthetic images is not part of the recipe (the PyTorch side's are random bytes): it is reported apart.
            var dataClock = Stopwatch.StartNew();
            using var data = SyntheticDataset.Create(new SyntheticDatasetOptions
            {
                Classes = Classes, TrainCount = TrainCount, TestCount = TestCount, ImageSize = ImageSize, Seed = 1,
            });
            double dataSeconds = dataClock.Elapsed.TotalSeconds;
            var clock = Stopwatch.StartNew();
            var cpuStart = Process.GetCurrentProcess().TotalProcessorTime;
            var settings = new TrainingSettings
            {
                Epochs = Epochs, BatchSize = BatchSize, LearningRate = 0.05, Seed = 1, Threads = o.Threads, KeepBestWeights = true,
                CheckpointDirectory = Path.Combine(folder, "teacher"),
            };
            using var teacher = ArchitectureRegistry.Create(Teacher, Classes, seed: 1);
            // The public entry point with the method objects the bench creates itself (the caller disposes them).
            TrainingTimings t, s;
            using (var ce = MethodRegistry.Create("CE"))
                t = Distillation.Run(new DistillationRequest { Student = teacher, Method = ce, Dataset = data, Settings = settings }).Timings;
            using var student = ArchitectureRegistry.Create(Student, Classes, seed: 2);
            using (var kd = MethodRegistry.Create("KD"))
                s = Distillation.Run(new DistillationRequest
                {
                    Student = student, Teacher = teacher, Method = kd, Dataset = data,
                    Settings = settings with { CheckpointDirectory = Path.Combine(folder, "student") },
                }).Timings;
            double total = clock.Elapsed.TotalSeconds;
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds;

            var record = new Dictionary<string, object>
            {
                ["framework"] = "kdtools", ["bench"] = "end_to_end", ["teacher"] = Teacher, ["student"] = Student,
                ["epochs"] = Epochs, ["train"] = TrainCount, ["test"] = TestCount, ["threads"] = o.Threads,
                ["dataset_s"] = Round(dataSeconds),
                ["total_s"] = Round(total),
                // CPU time (user + system, every thread) of the recipe: its work, whatever else ran on the machine.
                ["cpu_s"] = Round(cpu),
                // The teacher's own training steps are student steps of its CE run.
                ["teacher_forward_s"] = Round(s.Teacher),
                ["student_step_s"] = Round(t.StudentStep + s.StudentStep),
                ["augmentation_s"] = Round(t.InputPreparation + s.InputPreparation),
                ["input_wait_s"] = Round(t.InputWait + s.InputWait),
                ["evaluation_s"] = Round(t.Evaluation + s.Evaluation),
                ["checkpointing_s"] = Round(t.Checkpointing + s.Checkpointing),
                // Building the networks, folding the teacher, logging, GC: what the parts above leave of the total.
                ["other_s"] = Round(total - s.Teacher - t.StudentStep - s.StudentStep - t.InputWait - s.InputWait
                                    - t.Evaluation - s.Evaluation - t.Checkpointing - s.Checkpointing),
                // The process's peak resident set (VmHWM, as e2e_torch.py reads it); the bench runs this in a process of its own.
                ["peak_resident_mb"] = MemoryBreakdown.PeakResidentMb(),
            };
            // Where the resident set is at the end of the run, by mapping (the peak's make-up is the same plus the
            // transient activations); then what glibc's allocator was keeping of freed memory (malloc_trim returns it).
            foreach (var (key, value) in MemoryBreakdown.Now()) record["end_" + key] = value;
            GC.Collect();
            GC.WaitForPendingFinalizers();
            record["end_rss_after_gc_mb"] = MemoryBreakdown.ResidentMb();
            MemoryBreakdown.Trim();
            record["end_rss_after_malloc_trim_mb"] = MemoryBreakdown.ResidentMb();
            return record;
        }
        finally
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static double Round(double seconds) => Math.Round(seconds, 2);
}
