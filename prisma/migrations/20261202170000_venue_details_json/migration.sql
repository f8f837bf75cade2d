-- The details of a venue as one JSON text, kept by PostgreSQL itself, so a cold nearby answer reads
-- the stored texts of the winners instead of aggregating ~8 menu and special rows per venue on every
-- request (about 4 ms of PostgreSQL CPU for 65 venues, while the stored read is a primary-key lookup).
-- Triggers keep it, so every writer (the app, seeds, a psql session) keeps it true.

-- AlterTable
ALTER TABLE "venues" ADD COLUMN "detailsJson" TEXT;

-- The text (about 1 KB a venue) lives out of line, in the TOAST table: the bounding-box query scans
-- the venues heap for ids and coordinates, and inline texts would make it read ten times the pages.
-- Only the winners texts are fetched, one TOAST lookup each.
ALTER TABLE "venues" ALTER COLUMN "detailsJson" SET STORAGE EXTERNAL;
ALTER TABLE "venues" SET (toast_tuple_target = 128);

-- The id joins the box index so the nearest-venue box is answered by an index-only scan.
DROP INDEX "venues_latitude_longitude_idx";
CREATE INDEX "venues_latitude_longitude_id_idx" ON "venues"("latitude", "longitude", "id");

-- The shape server/venues/venue-details.ts reads (VenueRow): the fields of the venue, the available
-- menu (by category, then name) as JSON text to splice into answers, and every special (by title).
-- search_path is fixed at creation so a writer on another search_path still reaches this schema.
CREATE FUNCTION "venue_details_json"(v "venues") RETURNS TEXT
LANGUAGE sql STABLE SET search_path FROM CURRENT AS $$
  SELECT json_build_object(
    'id', v."id", 'slug', v."slug", 'name', v."name", 'description', v."description",
    'latitude', v."latitude", 'longitude', v."longitude", 'address', v."address", 'coverImageUrl', v."coverImageUrl",
    'menuJson', COALESCE((
      SELECT json_agg(json_build_object('id', m."id", 'name', m."name", 'description', m."description",
                                        'priceCents', m."priceCents", 'category', m."category")
                      ORDER BY m."category", m."name", m."id")
      FROM "menu_items" m WHERE m."venueId" = v."id" AND m."available"
    ), '[]'::json)::text,
    'specials', COALESCE((
      SELECT json_agg(json_build_object('id', s."id", 'title', s."title", 'description', s."description",
                                        'priceCents', s."priceCents", 'daysOfWeek', COALESCE(s."daysOfWeek", ARRAY[]::int[]),
                                        'validFrom', to_char(s."validFrom", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                        'validUntil', to_char(s."validUntil", 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                      ORDER BY s."title", s."id")
      FROM "specials" s WHERE s."venueId" = v."id"
    ), '[]'::json)
  )::text
$$;

-- Every insert or update of a venue rebuilds its text from the row being written.
CREATE FUNCTION "venues_keep_details_json"() RETURNS TRIGGER
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  NEW."detailsJson" := "venue_details_json"(NEW);
  RETURN NEW;
END
$$;

CREATE TRIGGER "venues_keep_details_json" BEFORE INSERT OR UPDATE ON "venues"
FOR EACH ROW EXECUTE FUNCTION "venues_keep_details_json"();

-- A statement that writes menu items or specials touches each venue it changed once (not once per
-- row: a seed writes thousands), and the venues trigger above rebuilds the text. A transition table
-- is only allowed on a trigger of one event, hence three triggers per table sharing one function.
CREATE FUNCTION "venue_children_touch_venues"() RETURNS TRIGGER
LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE "venues" SET "detailsJson" = NULL WHERE "id" IN (SELECT DISTINCT "venueId" FROM new_rows);
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE "venues" SET "detailsJson" = NULL
    WHERE "id" IN (SELECT "venueId" FROM new_rows UNION SELECT "venueId" FROM old_rows);
  ELSE
    UPDATE "venues" SET "detailsJson" = NULL WHERE "id" IN (SELECT DISTINCT "venueId" FROM old_rows);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER "menu_items_insert_details_json" AFTER INSERT ON "menu_items"
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "venue_children_touch_venues"();
CREATE TRIGGER "menu_items_update_details_json" AFTER UPDATE ON "menu_items"
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "venue_children_touch_venues"();
CREATE TRIGGER "menu_items_delete_details_json" AFTER DELETE ON "menu_items"
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "venue_children_touch_venues"();

CREATE TRIGGER "specials_insert_details_json" AFTER INSERT ON "specials"
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "venue_children_touch_venues"();
CREATE TRIGGER "specials_update_details_json" AFTER UPDATE ON "specials"
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "venue_children_touch_venues"();
CREATE TRIGGER "specials_delete_details_json" AFTER DELETE ON "specials"
REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION "venue_children_touch_venues"();

-- Venues written before this migration.
UPDATE "venues" SET "detailsJson" = NULL;
