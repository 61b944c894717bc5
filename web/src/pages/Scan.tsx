// The door: staff check passes in by their code, typed or pasted (always), or read by the camera
// where the browser has a BarcodeDetector. The answer is shown large, in words and colour, and
// announced; the page counts what it admitted and refused.
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { useMutation, useQuery } from "@apollo/client/react";
import {
  CheckInDocument,
  ScannerEventsDocument,
  type CheckInMutation,
  type CheckInRefusal,
} from "../gql/graphql.js";
import { ErrorMessage, Loading } from "../components/Feedback.js";
import { DateText } from "../components/MoneyText.js";
import { describeError } from "../lib/errors.js";
import { fieldText } from "../lib/forms.js";
import { useViewer } from "../lib/session.js";

export const REFUSAL: Record<CheckInRefusal, string> = {
  ALREADY_CHECKED_IN: "Already checked in",
  FORGED: "Not a genuine code",
  LISTED: "Listed for resale",
  MALFORMED: "Not a pass code",
  OTHER_EVENT: "For another event",
  RESOLD: "Resold: an old code",
  STALE: "Expired code: ask for the current screen",
  TRANSFERRED: "Transferred: an old code",
  UNKNOWN_PASS: "Unknown pass",
  VOID: "Void pass",
};

/** A code the camera read is not sent again for this long (it stays in view). */
const SAME_CODE_MS = 3_000;
const CAMERA_SCAN_MS = 250;

export function ScanPage() {
  const { viewer, canScan, loading } = useViewer();
  if (loading) return <Loading />;
  if (!viewer || !canScan) {
    return (
      <section className="page">
        <h1>Scan tickets</h1>
        <p className="error" role="alert">
          This page is for door staff and the operations team only.
        </p>
      </section>
    );
  }
  return <Scanner />;
}

type Result = CheckInMutation["checkIn"];

function Scanner() {
  const events = useQuery(ScannerEventsDocument);
  const [eventId, setEventId] = useState("");
  const [checkIn, { loading: checking }] = useMutation(CheckInDocument);
  // Numbered, so that the same answer twice in a row is shown (and announced) anew.
  const [result, setResult] = useState<{ seq: number; answer: Result }>();
  const [failure, setFailure] = useState<unknown>();
  const [counts, setCounts] = useState({ admitted: 0, refused: 0 });
  const input = useRef<HTMLInputElement>(null);

  const scan = useCallback(
    async (code: string) => {
      if (!eventId || !code) return;
      setFailure(undefined);
      try {
        const { data } = await checkIn({ variables: { eventId, code } });
        if (!data) return;
        setResult((last) => ({ seq: (last?.seq ?? 0) + 1, answer: data.checkIn }));
        setCounts((now) =>
          data.checkIn.admitted
            ? { ...now, admitted: now.admitted + 1 }
            : { ...now, refused: now.refused + 1 },
        );
      } catch (error) {
        setResult(undefined);
        setFailure(error);
      }
    },
    [checkIn, eventId],
  );

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = event.currentTarget;
    const code = fieldText(new FormData(form), "code").trim();
    await scan(code);
    form.reset();
    input.current?.focus();
  };

  if (events.loading && !events.data) return <Loading>Loading events…</Loading>;
  const list = events.data?.events.edges.map((edge) => edge.node) ?? [];
  return (
    <section className="page narrow scanner">
      <h1>Scan tickets</h1>
      <ErrorMessage error={events.error} />
      <div className="field">
        <label htmlFor="scan-event">Event at this door</label>
        <select id="scan-event" value={eventId} onChange={(event) => setEventId(event.target.value)}>
          <option value="">Choose the event…</option>
          {list.map((event) => (
            <option key={event.id} value={event.id}>
              {event.name}, {new Date(event.startsAt).toLocaleDateString()}, {event.venue}
            </option>
          ))}
        </select>
      </div>
      {eventId && (
        <>
          <form className="scan-form" onSubmit={(event) => void onSubmit(event)}>
            <label htmlFor="scan-code">Pass code</label>
            <input
              id="scan-code"
              name="code"
              ref={input}
              autoComplete="off"
              spellCheck={false}
              required
              aria-describedby="scan-code-hint"
            />
            <small id="scan-code-hint" className="hint">
              Scan with a handheld reader, or paste the code the fan shows as text, then press Enter.
            </small>
            <button type="submit" className="primary" disabled={checking}>
              Check in
            </button>
          </form>
          <Camera onCode={scan} />
        </>
      )}
      <div className="scan-result-area" role="status" aria-live="assertive" aria-atomic="true">
        {result && <ScanResult key={result.seq} result={result.answer} />}
      </div>
      {failure !== undefined && (
        <p className="error" role="alert">
          {describeError(failure, "checkIn")}
        </p>
      )}
      <p className="scan-counts">
        This session: <strong data-count="admitted">{counts.admitted}</strong> admitted,{" "}
        <strong data-count="refused">{counts.refused}</strong> refused.
      </p>
    </section>
  );
}

function ScanResult({ result }: { result: Result }) {
  const reason = result.refusal ? REFUSAL[result.refusal] : undefined;
  return (
    <div className={`scan-result ${result.admitted ? "admitted" : "refused"}`}>
      <p className="scan-verdict">
        <span aria-hidden="true">{result.admitted ? "✓ " : "✗ "}</span>
        {result.admitted ? "ADMITTED" : "REFUSED"}
      </p>
      {reason && <p className="scan-reason">{reason}</p>}
      <p>{result.message}</p>
      {result.pass && (
        <p>
          {result.pass.title}
          {result.pass.section && `, section ${result.pass.section}`}
        </p>
      )}
      {!result.admitted && result.checkedInAt && (
        <p>
          Checked in on <DateText iso={result.checkedInAt} />
        </p>
      )}
    </div>
  );
}

// The Barcode Detection API, where the browser has it (not in TypeScript's DOM library yet).
interface DetectedBarcode {
  rawValue: string;
}
interface BarcodeDetectorLike {
  detect(source: HTMLVideoElement): Promise<DetectedBarcode[]>;
}
type BarcodeDetectorClass = new (options: { formats: string[] }) => BarcodeDetectorLike;

function barcodeDetector(): BarcodeDetectorClass | undefined {
  const candidate = (globalThis as { BarcodeDetector?: BarcodeDetectorClass }).BarcodeDetector;
  // mediaDevices is absent outside secure contexts (plain http on another host than localhost).
  const media = navigator.mediaDevices as MediaDevices | undefined;
  return typeof candidate === "function" && media ? candidate : undefined;
}

function Camera({ onCode }: { onCode: (code: string) => Promise<void> }) {
  const [on, setOn] = useState(false);
  const [failure, setFailure] = useState<string>();
  const video = useRef<HTMLVideoElement>(null);
  const Detector = barcodeDetector();

  useEffect(() => {
    if (!on || !Detector) return;
    let stream: MediaStream | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let last = { code: "", at: 0 };
    const detector = new Detector({ formats: ["qr_code"] });
    const tick = async () => {
      const element = video.current;
      if (stopped || !element) return;
      try {
        const [found] = await detector.detect(element);
        const now = Date.now();
        if (found && (found.rawValue !== last.code || now - last.at > SAME_CODE_MS)) {
          last = { code: found.rawValue, at: now };
          await onCode(found.rawValue);
        }
      } catch {
        // A frame that could not be read: the next one is tried.
      }
      if (!stopped) timer = setTimeout(() => void tick(), CAMERA_SCAN_MS);
    };
    navigator.mediaDevices
      .getUserMedia({ video: { facingMode: "environment" } })
      .then(async (media) => {
        stream = media;
        if (stopped || !video.current) return;
        video.current.srcObject = media;
        await video.current.play();
        void tick();
      })
      .catch(() => {
        setFailure("The camera could not be started. Type or paste codes instead.");
        setOn(false);
      });
    return () => {
      stopped = true;
      clearTimeout(timer);
      stream?.getTracks().forEach((track) => track.stop());
    };
  }, [on, Detector, onCode]);

  if (!Detector) {
    return <p className="hint">This browser can't read QR codes with the camera: enter codes above.</p>;
  }
  return (
    <div className="camera">
      <button type="button" onClick={() => setOn(!on)} aria-pressed={on}>
        {on ? "Stop the camera" : "Scan with the camera"}
      </button>
      {on && <video ref={video} className="camera-view" muted playsInline aria-label="Camera view" />}
      {failure && (
        <p className="error" role="alert">
          {failure}
        </p>
      )}
    </div>
  );
}
