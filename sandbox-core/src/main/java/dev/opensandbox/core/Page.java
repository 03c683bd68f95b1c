package dev.opensandbox.core;

import java.util.List;
import java.util.Objects;

/**
 * One page of a list, with the arithmetic clients rely on.
 *
 * @param items      the items of this page (empty past the end)
 * @param page       the requested page number, from 1
 * @param pageSize   the requested page size
 * @param totalItems how many items match in all
 */
public record Page<T>(List<T> items, long page, int pageSize, long totalItems) {

    public Page {
        items = List.copyOf(Objects.requireNonNull(items, "items"));
        if (page < 1) {
            throw new IllegalArgumentException("page must be >= 1");
        }
        if (pageSize < 1) {
            throw new IllegalArgumentException("pageSize must be >= 1");
        }
        if (totalItems < 0) {
            throw new IllegalArgumentException("totalItems must be >= 0");
        }
    }

    /** {@code ceil(totalItems / pageSize)}, 0 when nothing matches. */
    public long totalPages() {
        return (totalItems + pageSize - 1) / pageSize;
    }

    /** True when a later page has items. */
    public boolean hasNextPage() {
        return page < totalPages();
    }

    /** Cuts one page out of {@code all}, which is already filtered and sorted. */
    public static <T> Page<T> of(List<T> all, long page, int pageSize) {
        long total = all.size();
        // Compare before multiplying so that a huge page number cannot overflow.
        if (page - 1 >= (total + pageSize - 1) / pageSize) {
            return new Page<>(List.of(), page, pageSize, total);
        }
        int from = (int) ((page - 1) * pageSize);
        int to = (int) Math.min(total, (long) from + pageSize);
        return new Page<>(all.subList(from, to), page, pageSize, total);
    }
}
