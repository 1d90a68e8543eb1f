using System.Text;
using Microsoft.EntityFrameworkCore;

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
