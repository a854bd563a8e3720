using static TorchSharp.torch;

namespace KdTools.Core.Methods;

/// <summary>
/// The named, already weighted loss terms of one step. The engine sums them with the task loss, backpropagates the
/// sum and reports each term's value per epoch, so every method's contributions show up by name in the results.
/// </summary>
public sealed class LossTerms
{
    private readonly List<KeyValuePair<string, Tensor>> _terms = [];

    public IReadOnlyList<KeyValuePair<string, Tensor>> Items => _terms;

    public void Add(string name, Tensor weightedValue)
    {
        if (_terms.Any(t => t.Key == name))
            throw new InvalidOperationException($"loss term '{name}' added twice in one step");
        _terms.Add(new(name, weightedValue));
    }

    public Tensor Sum()
    {
        if (_terms.Count == 0) throw new InvalidOperationException("no loss term was added");
        var total = _terms[0].Value;
        for (int i = 1; i < _terms.Count; i++) total = total + _terms[i].Value;
        return total;
    }
}
