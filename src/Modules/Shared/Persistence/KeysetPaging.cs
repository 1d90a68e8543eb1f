using FluentValidation;
using Microsoft.EntityFrameworkCore;

namespace Monolith.Shared.Persistence;

/// <summary>A query for one page of a sequence: at most <see cref="Limit"/> rows after the cursor <see cref="After"/>, the previous page's Next.</summary>
public interface IKeysetPageQuery
{
    int Limit { get; }
    long? After { get; }
}

public static class KeysetPaging
{
    /// <summary>
    /// One page of <paramref name="ordered"/> (already past the cursor and in cursor order), read with one row more
    /// than the page holds, so that Next is null exactly when nothing follows.
    /// </summary>
    public static async Task<(List<T> Items, long? Next)> PageAsync<T>(this IQueryable<T> ordered, int limit, Func<T, long> cursor, CancellationToken ct)
    {
        var rows = await ordered.Take(limit + 1).ToListAsync(ct);
        if (rows.Count <= limit) return (rows, null);
        rows.RemoveAt(rows.Count - 1);
        return (rows, cursor(rows[^1]));
    }
}

/// <summary>The rules of every page query; a query's validator includes them with its own maximum.</summary>
public sealed class KeysetPageRules<T> : AbstractValidator<T> where T : IKeysetPageQuery
{
    public KeysetPageRules(int maxLimit)
    {
        RuleFor(x => x.Limit).InclusiveBetween(1, maxLimit);
        RuleFor(x => x.After).GreaterThan(0);
    }
}
