// Read iCalendar files with ical.js as a calendar client does and print what it understood.
// Input (stdin): a JSON list of calendar texts. Output (stdout): a JSON list, one entry per
// calendar: its METHOD and, for each VEVENT, UID, SEQUENCE, STATUS and the start and end
// as UTC instants (ISO 8601), resolved through the calendar's own VTIMEZONE components.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const calendars = JSON.parse(readFileSync(0, "utf8"));
const results = calendars.map((text) => {
  const calendar = new ICAL.Component(ICAL.parse(text));
  // Each calendar brings its own zone definitions: forget the previous one's.
  ICAL.TimezoneService.reset();
  for (const zone of calendar.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(zone);
  }
  const events = calendar.getAllSubcomponents("vevent").map((component) => {
    const event = new ICAL.Event(component);
    const instant = (time) => (time ? time.toJSDate().toISOString() : null);
    return {
      uid: event.uid,
      sequence: event.sequence,
      status: component.getFirstPropertyValue("status"),
      start: instant(event.startDate),
      end: instant(event.endDate),
      start_zone: event.startDate ? event.startDate.zone.tzid : null,
    };
  });
  return { method: calendar.getFirstPropertyValue("method"), events };
});
process.stdout.write(JSON.stringify(results));
