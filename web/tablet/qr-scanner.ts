/** The Shape Detection API; not in TypeScript's DOM lib yet, and only in some browsers (Chrome on Android, ChromeOS, macOS). */
interface BarcodeDetectorLike {
  detect(source: CanvasImageSource): Promise<{ rawValue: string }[]>;
}
type BarcodeDetectorCtor = new (opts: { formats: string[] }) => BarcodeDetectorLike;

const SCAN_INTERVAL_MS = 200;

export function cameraScanningSupported(): boolean {
  return 'BarcodeDetector' in window && !!navigator.mediaDevices?.getUserMedia;
}

/**
 * Points the rear camera at a QR code until one is read, then stops the camera and hands the text to
 * `onCode`. Without BarcodeDetector the bartender types the code (or uses a USB/Bluetooth scanner,
 * which types it into the focused field and presses Enter).
 */
export class QrScanner {
  private stream: MediaStream | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly video: HTMLVideoElement,
    private readonly onCode: (text: string) => void,
  ) {}

  get running(): boolean {
    return this.stream !== null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    const Detector = (window as unknown as { BarcodeDetector: BarcodeDetectorCtor }).BarcodeDetector;
    const detector = new Detector({ formats: ['qr_code'] });
    this.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
    this.video.srcObject = this.stream;
    this.video.hidden = false;
    await this.video.play();
    const tick = async () => {
      if (!this.stream) return;
      try {
        const found = await detector.detect(this.video);
        const text = found[0]?.rawValue;
        if (text) {
          this.stop();
          this.onCode(text);
          return;
        }
      } catch {
        // A frame that is not ready yet; the next tick tries again.
      }
      this.timer = setTimeout(() => void tick(), SCAN_INTERVAL_MS);
    };
    void tick();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.video.srcObject = null;
    this.video.hidden = true;
  }
}

/** A QR code's text may be the bare code or a link ending in it; the code is 43 base64url characters. */
export function extractCode(text: string): string | null {
  const m = /(?:^|[^A-Za-z0-9_-])([A-Za-z0-9_-]{43})$/.exec(text.trim());
  return m?.[1] ?? null;
}
