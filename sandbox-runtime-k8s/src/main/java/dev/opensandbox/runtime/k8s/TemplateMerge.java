package dev.opensandbox.runtime.k8s;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges the runtime's BatchSandbox over the operator's template ({@code batchsandbox_template_file}).
 *
 * <p>Rules: maps merge recursively and the runtime wins; a runtime {@code null} never erases a
 * template value; lists whose elements all carry a {@code name} (containers, init containers,
 * volumes, volume mounts, env, image pull secrets) merge element by element by name, template
 * elements the runtime does not name are kept in place and the runtime's new ones are appended;
 * any other list is replaced. Upstream replaces every list, which silently drops template
 * sidecars, init containers and env; merging by name keeps them.
 */
final class TemplateMerge {

    private TemplateMerge() {
    }

    /** A new map: {@code runtime} merged over {@code template}; neither argument is changed. */
    static Map<String, Object> merge(Map<String, Object> template, Map<String, Object> runtime) {
        Map<String, Object> result = deepCopy(template == null ? Map.of() : template);
        for (Map.Entry<String, Object> entry : runtime.entrySet()) {
            Object value = entry.getValue();
            if (value == null) {
                continue;
            }
            result.put(entry.getKey(), mergeValue(result.get(entry.getKey()), value));
        }
        return result;
    }

    @SuppressWarnings("unchecked")
    private static Object mergeValue(Object base, Object override) {
        if (base instanceof Map<?, ?> baseMap && override instanceof Map<?, ?> overrideMap) {
            return merge((Map<String, Object>) baseMap, (Map<String, Object>) overrideMap);
        }
        if (base instanceof List<?> baseList && override instanceof List<?> overrideList
            && allNamed(baseList) && allNamed(overrideList)) {
            return mergeByName((List<Object>) baseList, (List<Object>) overrideList);
        }
        return deepCopyValue(override);
    }

    @SuppressWarnings("unchecked")
    private static List<Object> mergeByName(List<Object> base, List<Object> override) {
        List<Object> result = new ArrayList<>();
        Map<Object, Map<String, Object>> overrides = new LinkedHashMap<>();
        for (Object element : override) {
            overrides.put(((Map<String, Object>) element).get("name"), (Map<String, Object>) element);
        }
        for (Object element : base) {
            Map<String, Object> named = (Map<String, Object>) element;
            Map<String, Object> replacement = overrides.remove(named.get("name"));
            result.add(replacement == null ? deepCopyValue(named) : merge(named, replacement));
        }
        for (Map<String, Object> added : overrides.values()) {
            result.add(deepCopyValue(added));
        }
        return result;
    }

    private static boolean allNamed(List<?> list) {
        if (list.isEmpty()) {
            return true;
        }
        for (Object element : list) {
            if (!(element instanceof Map<?, ?> map) || !(map.get("name") instanceof String)) {
                return false;
            }
        }
        return true;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> deepCopy(Map<String, Object> map) {
        return (Map<String, Object>) deepCopyValue(map);
    }

    private static Object deepCopyValue(Object value) {
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> copy = new LinkedHashMap<>();
            map.forEach((key, element) -> copy.put(String.valueOf(key), deepCopyValue(element)));
            return copy;
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>();
            list.forEach(element -> copy.add(deepCopyValue(element)));
            return copy;
        }
        return value;
    }
}
