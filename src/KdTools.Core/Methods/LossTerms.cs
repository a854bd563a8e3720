using static TorchSharp.torch;

namespace KdTools.Core.Methods;

/// <summary>
/// The named, already weighted loss terms of one step. The engine sums them with the task loss, backpropagates the
/// sum and reports each term's value per epoch, so every method's contributions show up by name in the results.
/// </summary>
public sealed class LossTerms
{
    private readonly List<KeyValuePair<string, Tensor>> _terms = [];
    private readonly Dictionary<string, string> _weightOptions = [];

    public IReadOnlyList<KeyValuePair<string, Tensor>> Items => _terms;

    /// <param name="weightOption">
    /// The method option that weights this term (<c>Beta</c>, <c>Alpha</c>, …), named by a divergence message as the
    /// knob to turn; null for a term without one.
    /// </param>
    public void Add(string name, Tensor weightedValue, string? weightOption = null)
    {
        if (_terms.Any(t => t.Key == name))
            throw new InvalidOperationException($"loss term '{name}' added twice in one step");
        _terms.Add(new(name, weightedValue));
        if (weightOption is not null) _weightOptions[name] = weightOption;
    }

    /// <summary>The option that weights each term that named one.</summary>
    public IReadOnlyDictionary<string, string> WeightOptions => _weightOptions;

    /// <summary>Gives <paramref name="option"/> to every term added so far without one (a method family's common weight).</summary>
    internal void DefaultWeightOption(string option)
    {
        foreach (var term in _terms) _weightOptions.TryAdd(term.Key, option);
    }

    public Tensor Sum()
    {
        if (_terms.Count == 0) throw new InvalidOperationException("no loss term was added");
        var total = _terms[0].Value;
        for (int i = 1; i < _terms.Count; i++) total = total + _terms[i].Value;
        return total;
    }
}
