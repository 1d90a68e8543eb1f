namespace Monolith.Shared.Behaviors;

/// <summary>Enums in request bodies are their names, in any case: not numbers, not padded with spaces.</summary>
public static class EnumNames
{
    /// <summary>The value named <paramref name="text"/>, or default (no member), which the request's validator refuses as a field error.</summary>
    public static TEnum Parse<TEnum>(string? text) where TEnum : struct, Enum =>
        Enum.GetNames<TEnum>().FirstOrDefault(name => string.Equals(name, text, StringComparison.OrdinalIgnoreCase)) is { } name
            ? Enum.Parse<TEnum>(name)
            : default;
}
