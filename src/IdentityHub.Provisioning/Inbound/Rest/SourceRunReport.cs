using System.Text.Encodings.Web;
using System.Text.Json;
using IdentityHub.Core.Inbound;

namespace IdentityHub.Provisioning.Inbound.Rest;

/// <summary>
/// What a reconciliation or dry run found and did (stored as <c>InboundRun.Report</c>, camelCase JSON): departments and
/// people to create, to update (each with its attribute changes, ours → theirs), people to mark as left (of this source,
/// missing from the full read), conflicts (owned attributes IdentityHub held otherwise) and refused records. Each list
/// keeps its first <see cref="MaxListed"/> entries; the counts are complete.
/// </summary>
public sealed class SourceRunReport
{
    public const int MaxListed = 1000;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly Section _departments = new();
    private readonly Section _people = new();
    private readonly Listed<object> _left = new();
    private readonly Listed<object> _conflicts = new();
    private readonly Listed<object> _failed = new();

    public sealed record Change(string Attribute, string? Ours, string? Theirs);

    public void Department(IntakeOutcome outcome, Guid id, string name, string? externalId, IReadOnlyList<Change> changes)
    {
        if (outcome == IntakeOutcome.Created)
        {
            _departments.Create.Add(new { id, name, externalId });
        }
        else
        {
            _departments.Update.Add(new { id, name, externalId, changes });
        }
    }

    public void Created(string userId, string userName, string? externalId, string? employeeNumber, string displayName) =>
        _people.Create.Add(new { userId, userName, externalId, employeeNumber, displayName });

    public void Updated(string userId, string userName, string? externalId, IReadOnlyList<Change> changes) =>
        _people.Update.Add(new { userId, userName, externalId, changes });

    public void Left(string userId, string? userName, string? externalId) => _left.Add(new { userId, userName, externalId });

    public void Conflicts(string userId, string userName, IReadOnlyList<Change> changes)
    {
        foreach (var change in changes)
        {
            _conflicts.Add(new { userId, userName, attribute = change.Attribute, local = change.Ours, source = change.Theirs });
        }
    }

    public void Failed(string record, string error) => _failed.Add(new { record, error });

    public string ToJson() => JsonSerializer.Serialize(new
    {
        counts = new
        {
            departmentsToCreate = _departments.Create.Count,
            departmentsToUpdate = _departments.Update.Count,
            peopleToCreate = _people.Create.Count,
            peopleToUpdate = _people.Update.Count,
            peopleToMarkLeft = _left.Count,
            conflicts = _conflicts.Count,
            failed = _failed.Count,
        },
        departments = new { create = _departments.Create.Items, update = _departments.Update.Items },
        people = new { create = _people.Create.Items, update = _people.Update.Items, left = _left.Items },
        conflicts = _conflicts.Items,
        failed = _failed.Items,
    }, Json);

    private sealed class Section
    {
        public Listed<object> Create { get; } = new();

        public Listed<object> Update { get; } = new();
    }

    private sealed class Listed<T>
    {
        private readonly List<T> _items = [];

        public int Count { get; private set; }

        public IReadOnlyList<T> Items => _items;

        public void Add(T item)
        {
            Count++;
            if (_items.Count < MaxListed)
            {
                _items.Add(item);
            }
        }
    }
}
