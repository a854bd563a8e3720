using KdTools.Core.Models;

namespace KdTools.Core.Methods;

/// <summary>Which stage features a feature method pairs between student and teacher.</summary>
internal static class StageFeatures
{
    /// <summary>Number of consecutive stage features (stage1..stageN) a network exposes.</summary>
    public static int Count(IReadOnlyDictionary<string, long[]> features)
    {
        int n = 0;
        while (features.ContainsKey(FeatureNames.Stage(n + 1))) n++;
        return n;
    }

    /// <summary>Stages 1..N of both networks, one to one; fails when the stage counts differ.</summary>
    public static int[] Pairs(MethodSetup setup, string method)
    {
        setup.Teacher(FeatureNames.Stage(1));
        int student = Count(setup.StudentFeatures), teacher = Count(setup.TeacherFeatures!);
        if (student == 0 || student != teacher)
            throw new KdException(KdErrorIds.FeatureMissing, KdErrorKind.InvalidArgument,
                $"{method} pairs stages one to one, but the student has {student} stages and the teacher {teacher}; choose architectures with the same number of stages");
        return Enumerable.Range(1, student).ToArray();
    }

    /// <summary>The given stages' features of one network's output (post-activation unless another naming is given).</summary>
    public static List<TorchSharp.torch.Tensor> Collect(ModelOutput output, IEnumerable<int> stages, Func<int, string>? name = null) =>
        stages.Select(s => output.Feature((name ?? FeatureNames.Stage)(s))).ToList();

    /// <summary>FitNet's hint layer: the middle stage.</summary>
    public static int Middle(int count) => (count + 1) / 2;
}
