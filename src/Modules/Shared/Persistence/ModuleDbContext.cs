using System.Data.Common;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Monolith.Shared.Persistence;

/// <summary>
/// A module's DbContext: its tables in the module's schema (or with its prefix), snake_case names, and the
/// module's idempotency keys, so that a key commits in the same transaction as the write it guards.
/// Only concurrency strategies call SaveChanges.
/// </summary>
public abstract class ModuleDbContext(DbContextOptions options) : DbContext(options)
{
    public abstract string Module { get; }

    internal DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();

    /// <summary>Called before each command this context sends, while a SingleWriter batch watches for reads (<see cref="CommandWatch"/>).</summary>
    internal Action? BeforeCommand { get; set; }

    protected abstract void ConfigureModule(ModelBuilder model);

    /// <summary>Every decimal is money or a quantity priced in it: NUMERIC/DECIMAL(28, 8), so no column is configured by hand.</summary>
    protected sealed override void ConfigureConventions(ModelConfigurationBuilder conventions) =>
        conventions.Properties<decimal>().HavePrecision(Money.Precision, Money.Scale);

    protected sealed override void OnModelCreating(ModelBuilder model)
    {
        IdempotencyRecord.Configure(model);
        ConfigureModule(model);
        foreach (var entity in model.Model.GetEntityTypes())
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(ToSnakeCase(property.Name));
                if (property.PropertyInfo?.IsDefined(typeof(DatabaseClockAttribute), inherit: false) == true)
                    property.SetDefaultValueSql(DatabaseProvider.ClockSql);
            }
        model.PlaceInModule(Module);
    }

    static string ToSnakeCase(string name)
    {
        var sb = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0 && !char.IsUpper(name[i - 1])) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}

/// <summary>
/// The column is stamped by the database's clock when its row is inserted (<see cref="DatabaseProvider.ClockSql"/>), so
/// rows committed one after another are ordered by it whichever process wrote them. Code never sets it.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class DatabaseClockAttribute : Attribute;

/// <summary>Lets a SingleWriter batch see every command a unit sends, so a read behind unsaved writes is never trusted.</summary>
internal sealed class CommandWatch : DbCommandInterceptor
{
    public static readonly CommandWatch Instance = new();

    static void Notify(CommandEventData data) => (data.Context as ModuleDbContext)?.BeforeCommand?.Invoke();

    public override InterceptionResult<DbDataReader> ReaderExecuting(
        DbCommand command, CommandEventData data,
        InterceptionResult<DbDataReader> result)
    {
        Notify(data);
        return result;
    }

    public override ValueTask<InterceptionResult<DbDataReader>> ReaderExecutingAsync(
        DbCommand command, CommandEventData data,
        InterceptionResult<DbDataReader> result, CancellationToken ct = default)
    {
        Notify(data);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<object> ScalarExecuting(
        DbCommand command, CommandEventData data,
        InterceptionResult<object> result)
    {
        Notify(data);
        return result;
    }

    public override ValueTask<InterceptionResult<object>> ScalarExecutingAsync(
        DbCommand command, CommandEventData data,
        InterceptionResult<object> result, CancellationToken ct = default)
    {
        Notify(data);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> NonQueryExecuting(
        DbCommand command, CommandEventData data,
        InterceptionResult<int> result)
    {
        Notify(data);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
        DbCommand command, CommandEventData data,
        InterceptionResult<int> result, CancellationToken ct = default)
    {
        Notify(data);
        return ValueTask.FromResult(result);
    }
}
