namespace Monolith.Trading.Domain;

[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<AccountStatus>))]
public enum AccountStatus { Active = 1, Suspended = 2, Closed = 3 }

/// <summary>
/// The single source of truth of a trading account. Cash: buying (or shorting) reserves shares × entry price; closing
/// returns it with the trade's P&amp;L, so balance = initial + Σ closed P&amp;L − Σ open trades' cost. Equity is
/// initial + cumulative P&amp;L; the max drawdown is the largest fall of equity from its peak so far, in percent. An
/// account whose max drawdown reaches its limit is suspended and takes no new orders.
/// </summary>
[AppendOnlyRange(typeof(AuditEntry), nameof(AuditEntry.EntityId))]
internal sealed class TradingAccount : IAudited<TradingAccount.Snapshot>, IOwned
{
    public Guid Id { get; private set; }
    /// <summary>The subject that opened the account: the only caller that may trade on it or close it.</summary>
    public string Owner { get; private set; } = Caller.NoOwner;
    public decimal InitialBalance { get; private set; }
    public decimal CurrentBalance { get; private set; }
    public decimal CumulativePnl { get; private set; }
    public decimal PeakEquity { get; private set; }
    public decimal MaxDrawdownPct { get; private set; }
    public decimal MaxDrawdownLimitPct { get; private set; }
    /// <summary>The shares of the open trades, which bound what closing them can add to the totals (<see cref="CanCarry"/>).</summary>
    public decimal OpenShares { get; private set; }
    public AccountStatus Status { get; private set; }
    public long Version { get; private set; }
    public long FenceToken { get; private set; }
    public DateTimeOffset UpdatedAt { get; private set; }
    public string UpdatedBy { get; private set; } = "";

    public decimal Equity => InitialBalance + CumulativePnl;

    public sealed record Snapshot(decimal CurrentBalance, decimal CumulativePnl, decimal PeakEquity, decimal MaxDrawdownPct, AccountStatus Status);

    public Snapshot State() => new(CurrentBalance, CumulativePnl, PeakEquity, MaxDrawdownPct, Status);

    public static TradingAccount Open(string owner, decimal initialBalance, decimal maxDrawdownLimitPct, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(), Owner = owner, InitialBalance = initialBalance, CurrentBalance = initialBalance, PeakEquity = initialBalance,
        MaxDrawdownLimitPct = maxDrawdownLimitPct, Status = AccountStatus.Active, UpdatedAt = now, UpdatedBy = owner,
    };

    static readonly Dictionary<AccountStatus, AccountStatus[]> Transitions = new()
    {
        [AccountStatus.Active] = [AccountStatus.Suspended, AccountStatus.Closed],
        [AccountStatus.Suspended] = [AccountStatus.Active, AccountStatus.Closed],
        [AccountStatus.Closed] = [],
    };

    public void MoveTo(AccountStatus next, string actor, DateTimeOffset now)
    {
        if (!Transitions[Status].Contains(next))
            throw new BusinessRuleException("Transition not allowed", $"Account {Id} is {Status}; it cannot become {next}.");
        if (next == AccountStatus.Active && MaxDrawdownPct >= MaxDrawdownLimitPct)
            throw new BusinessRuleException("Drawdown limit reached", $"Account {Id} has a max drawdown of {MaxDrawdownPct}%, at or above its limit of {MaxDrawdownLimitPct}%.");
        Touch(actor, now);
        Status = next;
    }

    public void EnsureActive()
    {
        if (Status != AccountStatus.Active)
            throw new BusinessRuleException("Account not active", $"Account {Id} is {Status} and takes no orders.");
    }

    /// <summary>Reserves a position's cost; the balance must stay above zero.</summary>
    public bool CanAfford(decimal cost) => CurrentBalance - cost > 0m;

    /// <summary>
    /// Whether the account can open a trade of <paramref name="shares"/> beside its open ones and still close every one
    /// of them at any price the API accepts without a total passing what its column stores: a close returns its cost
    /// (together, initial + cumulative P&amp;L − balance) plus at most shares × the largest price as P&amp;L. Refusing the
    /// trade now is what keeps every open one closable.
    /// </summary>
    public bool CanCarry(decimal shares)
    {
        var openCost = InitialBalance + CumulativePnl - CurrentBalance;
        var worstGain = (OpenShares + shares) * Rules.MaxQuantity;
        return CurrentBalance + openCost + worstGain <= Money.MaxStored
               && InitialBalance + Math.Abs(CumulativePnl) + worstGain <= Money.MaxStored;
    }

    public void Reserve(decimal cost, decimal shares, string actor, DateTimeOffset now)
    {
        if (!CanAfford(cost)) throw new BusinessRuleException("Insufficient balance", $"Account {Id} holds {CurrentBalance}; it cannot reserve {cost}.");
        Touch(actor, now);
        CurrentBalance -= cost;
        OpenShares += shares;
    }

    /// <summary>Returns a closed position's cost with its P&amp;L; moves equity, its peak and the max drawdown; suspends at the limit.</summary>
    public void Settle(decimal cost, decimal shares, decimal pnl, string actor, DateTimeOffset now)
    {
        if (CurrentBalance + cost + pnl <= 0m)
            throw new BusinessRuleException("Insufficient balance", $"Closing would leave account {Id} with {CurrentBalance + cost + pnl}; the balance must stay above zero.");
        Touch(actor, now);
        CurrentBalance += cost + pnl;
        OpenShares -= shares;
        CumulativePnl += pnl;
        (PeakEquity, MaxDrawdownPct) = Drawdown.After(PeakEquity, MaxDrawdownPct, Equity);
        if (Status == AccountStatus.Active && MaxDrawdownPct >= MaxDrawdownLimitPct) Status = AccountStatus.Suspended;
    }

    void Touch(string actor, DateTimeOffset now) => (UpdatedBy, UpdatedAt) = (actor, now);
}

/// <summary>The peak-to-trough rule, shared by the account and by anyone recomputing it from the audit log.</summary>
internal static class Drawdown
{
    /// <summary>The peak and the max drawdown (percent, rounded half to even to 8 places) once equity moves to <paramref name="equity"/>.</summary>
    public static (decimal Peak, decimal MaxPct) After(decimal peak, decimal maxPct, decimal equity)
    {
        var newPeak = Math.Max(peak, equity);
        var fall = newPeak <= 0m ? 0m : Math.Clamp(Money.Divide((newPeak - equity) * 100m, newPeak), 0m, 100m);
        return (newPeak, Math.Max(maxPct, fall));
    }
}
