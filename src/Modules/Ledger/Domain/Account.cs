namespace Monolith.Ledger.Domain;

/// <summary>
/// An account's balance total, always changed together with the entry that explains it. The balance never goes
/// below minus the overdraft limit (checked here, and by a CHECK constraint), nor above what its column holds.
/// </summary>
[AppendOnlyRange(typeof(LedgerEntry), nameof(LedgerEntry.AccountId))]
internal sealed class Account : IVersioned, IOwned
{
    public Guid Id { get; private set; }
    /// <summary>The subject that opened the account: the only caller that may spend from it.</summary>
    public string Owner { get; private set; } = Caller.NoOwner;
    public string Currency { get; private set; } = "";
    public decimal Balance { get; private set; }
    public decimal OverdraftLimit { get; private set; }
    public long Version { get; private set; }
    [DatabaseClock]
    public DateTimeOffset CreatedAt { get; private set; }

    public static Account Open(string owner, string currency, decimal overdraftLimit) =>
        new() { Id = Guid.CreateVersion7(), Owner = owner, Currency = currency, OverdraftLimit = overdraftLimit };

    /// <summary>Moves the balance by a signed amount and returns the entry that records it.</summary>
    public LedgerEntry Post(decimal amount, Guid operationId, OperationKind operation)
    {
        var after = Balance + amount;
        if (after < -OverdraftLimit)
            throw new BusinessRuleException("Insufficient funds",
                $"Account {Id} holds {Balance} {Currency} with an overdraft limit of {OverdraftLimit}; it cannot be debited {-amount}.");
        if (after > Money.MaxStored)
            throw new BusinessRuleException("Balance limit",
                $"Account {Id} holds {Balance} {Currency}; crediting {amount} would pass {Money.MaxStored}, the most a balance can hold.");
        Balance = after;
        return new LedgerEntry(Id, amount, after, operationId, operation);
    }
}

internal enum OperationKind { Deposit, Withdrawal, Transfer }
