package dev.opensandbox.it.reliability;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What a scope of a test left on the engine and in the store: sandbox containers carrying its
 * label, rows whose metadata carries its marker (hidden ones included), volumes of its name
 * prefix, egress sidecars of the sandbox ids it knows of.
 *
 * @param containers sandbox id to container state
 */
public record Leftovers(Map<String, String> containers, List<StoreRows.Row> rows, Set<String> volumes, Set<String> sidecars) {

    /**
     * Looks now.
     *
     * @param labelKey     metadata key every sandbox of the scope carries (metadata become container labels)
     * @param labelValue   its value; rows are matched on {@code "labelValue"} in their metadata JSON
     * @param database     the server's SQLite file
     * @param volumePrefix volume names of the scope, or null for none
     * @param knownIds     sandbox ids seen so far (sidecars carry only their sandbox's id)
     */
    public static Leftovers of(String labelKey, String labelValue, Path database, String volumePrefix,
                               Collection<String> knownIds) {
        Map<String, String> containers = Engine.sandboxContainers(labelKey, labelValue);
        List<StoreRows.Row> rows = StoreRows.containing(database, "\"" + labelValue + "\"");
        Set<String> ids = new TreeSet<>(knownIds);
        ids.addAll(containers.keySet());
        rows.forEach(row -> ids.add(row.id()));
        return new Leftovers(containers, rows, volumePrefix == null ? Set.of() : Engine.volumes(volumePrefix),
            Engine.sidecarsOf(ids));
    }

    public boolean none() {
        return containers.isEmpty() && rows.isEmpty() && volumes.isEmpty() && sidecars.isEmpty();
    }

    /** Every sandbox id these leftovers name. */
    public Set<String> ids() {
        Set<String> ids = new TreeSet<>(containers.keySet());
        rows.forEach(row -> ids.add(row.id()));
        return ids;
    }

    /** For example {@code containers {3f2e…=running}, rows {3f2e…=CREATING}, volumes [], sidecars []}. */
    public String describe() {
        List<String> rowText = new ArrayList<>();
        rows.forEach(row -> rowText.add(shortId(row.id()) + "=" + row.phase()));
        List<String> containerText = new ArrayList<>();
        containers.forEach((id, state) -> containerText.add(shortId(id) + "=" + state));
        return "containers " + containerText + ", rows " + rowText + ", volumes " + volumes + ", sidecars " + sidecars;
    }

    private static String shortId(String id) {
        return id.length() > 8 ? id.substring(0, 8) : id;
    }
}
