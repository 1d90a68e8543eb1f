using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Monolith.Shared.Concurrency;

/// <summary>
/// The SQL the sessions write by hand, from the EF model's names: the row load by keys, the compare-and-swap UPDATE,
/// and quoted table and column names. Only identifiers from the model are spliced in; every value is a parameter.
/// </summary>
public sealed class RowSql(DbContext db)
{
    // The text of each row load, by context, row type, key count and locking clause: built once, not per unit.
    static readonly ConcurrentDictionary<(Type, Type, int, string), string> RowQueries = new();

    /// <summary>SELECT * of <paramref name="keys"/> rows by key ({0}…), in ascending key order, with an optional locking clause.</summary>
    public string SelectByKeys<TRow>(int keys, string lockClause) where TRow : class, IVersioned =>
        RowQueries.GetOrAdd((db.GetType(), typeof(TRow), keys, lockClause), _ =>
        {
            var (table, key, _) = Names<TRow>();
            var list = string.Join(", ", Enumerable.Range(0, keys).Select(i => $"{{{i}}}"));
            return $"SELECT * FROM {table} WHERE {key} IN ({list}) ORDER BY {key} {lockClause}";
        });

    /// <summary>
    /// UPDATE of <paramref name="entry"/>'s row: its changed columns, extra assignments and version = version + 1, WHERE
    /// its key matches AND the condition of <paramref name="guard"/>. The guard gets the entry, the version read (as a
    /// parameter placeholder) and a function that adds a parameter; it returns the condition and any extra assignments.
    /// </summary>
    public (string Sql, List<object> Args) CompareAndSwap(EntityEntry entry, long read,
        Func<EntityEntry, string, Func<object, string>, (string Condition, IEnumerable<string> Sets)> guard)
    {
        var (table, key, version) = Names(entry.Metadata);
        var args = new List<object>();
        string Arg(object value) { args.Add(value); return $"{{{args.Count - 1}}}"; }

        var (condition, extraSets) = guard(entry, Arg(read), Arg);
        var sets = entry.Properties
            .Where(p => p.IsModified && p.Metadata.Name is not (nameof(IVersioned.Version) or nameof(IFenced.FenceToken)))
            .Select(p => $"{Column(entry.Metadata, p.Metadata.Name)} = {Arg(ToProvider(p))}")
            .Concat(extraSets)
            .Append($"{version} = {version} + 1");
        return ($"UPDATE {table} SET {string.Join(", ", sets)} WHERE {key} = {Arg(((IVersioned)entry.Entity).Id)} AND {condition}", args);
    }

    /// <summary>A property's value as the database stores it (through its value converter: enums as text), null as DBNull.</summary>
    static object ToProvider(PropertyEntry property)
    {
        var converter = property.Metadata.GetTypeMapping().Converter;
        var value = converter is null ? property.CurrentValue : converter.ConvertToProvider(property.CurrentValue);
        return value ?? DBNull.Value;
    }

    public (string Table, string Key, string Version) Names<TRow>() => Names(db.Model.FindEntityType(typeof(TRow))!);

    public (string Table, string Key, string Version) Names(IEntityType entity) =>
        (Table(entity), Column(entity, nameof(IVersioned.Id)), Column(entity, nameof(IVersioned.Version)));

    public string Column(IEntityType entity, string property)
    {
        var store = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        return db.GetService<ISqlGenerationHelper>().DelimitIdentifier(entity.FindProperty(property)!.GetColumnName(store)!);
    }

    public string Table(IEntityType entity) =>
        db.GetService<ISqlGenerationHelper>().DelimitIdentifier(entity.GetTableName()!, entity.GetSchema());
}
