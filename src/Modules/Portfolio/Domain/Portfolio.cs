namespace Monolith.Portfolio.Domain;

/// <summary>A portfolio belongs to an owner; its positions are per token. Commands never change it after opening.</summary>
internal sealed class Portfolio
{
    public const int MaxOwnerLength = 200;

    public Guid Id { get; private set; }
    public string Owner { get; private set; } = "";
    [DatabaseClock]
    public DateTimeOffset CreatedAt { get; private set; }

    public static Portfolio Open(string owner) => new() { Id = Guid.CreateVersion7(), Owner = owner };
}
