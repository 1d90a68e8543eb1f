namespace Monolith.Portfolio.Domain;

/// <summary>
/// A portfolio belongs to the subject that opened it; its positions are per token. Commands never change it after
/// opening, so its owner can be checked outside the unit that claims a position.
/// </summary>
internal sealed class Portfolio : IOwned
{
    /// <summary>The column's width, from when the owner was free text; a subject is at most <see cref="Caller.MaxSubjectLength"/>.</summary>
    public const int MaxOwnerLength = 200;

    public Guid Id { get; private set; }
    public string Owner { get; private set; } = "";
    [DatabaseClock]
    public DateTimeOffset CreatedAt { get; private set; }

    public static Portfolio Open(string owner) => new() { Id = Guid.CreateVersion7(), Owner = owner };
}
