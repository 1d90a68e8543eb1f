using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Monolith.Shared.Concurrency;

/// <summary>
/// The SQL the sessions write by hand: the row load by keys, and the quoted table and column names of
/// <see cref="TableShape"/>, which <see cref="RowWriter"/> writes with. Only identifiers from the model are spliced in; every value is a parameter.
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

    public (string Table, string Key, string Version) Names<TRow>() => Names(db.Model.FindEntityType(typeof(TRow))!);

    public (string Table, string Key, string Version) Names(IEntityType entity) =>
        (Table(entity), Column(entity, nameof(IVersioned.Id)), Column(entity, nameof(IVersioned.Version)));

    public string Column(IEntityType entity, string property) => TableShape.For(db, entity).ColumnNamed(property);

    public string Table(IEntityType entity) => TableShape.For(db, entity).Table;
}
