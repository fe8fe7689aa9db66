// SPDX-License-Identifier: GPL-2.0

//! `rvisor boot`: a one-vCPU PC for a Linux guest on a KVM-compatible
//! device without in-kernel irqchip, in the way QEMU drives KVM with
//! `kernel-irqchip=off` (`kvm_arch_pre_run()`/`kvm_arch_post_run()`):
//! the VMM owns the 8259A pair, the 8254, the CMOS clock and the 16550,
//! and before every `KVM_RUN` it either injects the PIC's vector with
//! `KVM_INTERRUPT` (when `kvm_run.ready_for_interrupt_injection` says the
//! guest can take it) or asks for `request_interrupt_window`.
//!
//! Time: the PIT model is given `CLOCK_MONOTONIC`; a POSIX timer aimed at
//! this thread fires at the PIT's next IRQ 0 edge (or the `--timeout`),
//! and its signal handler sets `kvm_run.immediate_exit`, so a signal that
//! lands just before `KVM_RUN` still makes it return at once (`EINTR`)
//! instead of being lost until the next exit. The stdin thread kicks the
//! vCPU the same way when a key arrives for the serial port.

use crate::linux;
use crate::machine;
use crate::options::{Boot, Options};
use kvm_bindings::{kvm_run, kvm_userspace_memory_region, KVM_MAX_CPUID_ENTRIES};
use kvm_ioctls::{VcpuExit, VcpuFd};
use rvisor_devices::cmos::{self, Cmos, DateTime};
use rvisor_devices::pic::{self, Pic};
use rvisor_devices::pit::{self, Pit};
use std::cell::Cell;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex};
use vm_memory::{GuestAddress, GuestMemoryBackend, GuestMemoryMmap};
use vm_superio::{I8042Device, Serial, Trigger};

/// `KVM_INTERRUPT`, which kvm-ioctls does not wrap:
/// `_IOW(KVMIO, 0x86, struct kvm_interrupt)`.
const KVM_INTERRUPT: libc::c_ulong = 0x4004_ae86;
/// COM1.
const COM1: u16 = 0x3f8;
const COM1_IRQ: u8 = 4;
/// The i8042's data and command ports.
const I8042_DATA: u16 = 0x60;
const I8042_CMD: u16 = 0x64;
/// The 8259A pair's ports.
const PIC_PORTS: [u16; 6] = [
    pic::MASTER_CMD,
    pic::MASTER_DATA,
    pic::SLAVE_CMD,
    pic::SLAVE_DATA,
    pic::ELCR_MASTER,
    pic::ELCR_SLAVE,
];
/// The shortest time between two timer kicks (20 kHz).
const MIN_TICK_NS: u64 = 50_000;
/// CPUID.1:EDX.APIC: off, there is no local APIC.
const CPUID1_EDX_APIC: u32 = 1 << 9;

/// The `kvm_run` of the vCPU thread, for the signal handler.
static KVM_RUN: AtomicPtr<kvm_run> = AtomicPtr::new(std::ptr::null_mut());

/// The kick: make the current or next `KVM_RUN` return at once.
extern "C" fn kick(_: libc::c_int) {
    let run = KVM_RUN.load(Ordering::Relaxed);
    if !run.is_null() {
        // SAFETY: `run` is the vCPU's mapped `kvm_run`, published before
        // the handler was installed and cleared before it is unmapped; a
        // byte store is async-signal-safe.
        unsafe { std::ptr::write_volatile(&mut (*run).immediate_exit, 1) };
    }
}

/// `kvm_run.io.size` of the exit being handled (kvm-ioctls hands over the
/// data, `size * count` bytes, but not the element size).
fn io_size() -> usize {
    let run = KVM_RUN.load(Ordering::Relaxed);
    // SAFETY: `run` is the vCPU's mapped `kvm_run` (set before the first
    // KVM_RUN), and the exit is an I/O exit, so `io` is the member.
    usize::from(unsafe { (*run).__bindgen_anon_1.io.size })
}

fn kick_signal() -> libc::c_int {
    libc::SIGRTMIN()
}

fn now_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn timespec(ns: u64) -> libc::timespec {
    libc::timespec {
        tv_sec: (ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (ns % 1_000_000_000) as libc::c_long,
    }
}

/// A POSIX timer that sends the kick signal to this thread, and the time
/// it is set for.
struct KickTimer(libc::timer_t, Cell<Option<u64>>);

impl KickTimer {
    fn new() -> Result<Self, String> {
        // SAFETY: an all-zero sigevent is valid; the fields below set it up.
        let mut ev: libc::sigevent = unsafe { std::mem::zeroed() };
        ev.sigev_notify = libc::SIGEV_THREAD_ID;
        ev.sigev_signo = kick_signal();
        // SAFETY: gettid has no preconditions.
        ev.sigev_notify_thread_id = unsafe { libc::gettid() };
        let mut t: libc::timer_t = std::ptr::null_mut();
        // SAFETY: `ev` and `t` are valid for the call.
        if unsafe { libc::timer_create(libc::CLOCK_MONOTONIC, &mut ev, &mut t) } != 0 {
            return Err(format!("timer_create: {}", std::io::Error::last_os_error()));
        }
        Ok(Self(t, Cell::new(None)))
    }

    /// Fires at `at` (monotonic ns), or never; no system call when that
    /// is already so.
    fn arm(&self, at: Option<u64>) {
        if self.1.replace(at) == at {
            return;
        }
        let spec = libc::itimerspec {
            it_interval: timespec(0),
            // An already-past time fires at once; 0 would disarm.
            it_value: timespec(at.map_or(0, |t| t.max(1))),
        };
        // SAFETY: the timer is ours and `spec` valid.
        unsafe { libc::timer_settime(self.0, libc::TIMER_ABSTIME, &spec, std::ptr::null_mut()) };
    }
}

impl Drop for KickTimer {
    fn drop(&mut self) {
        // SAFETY: `self.0` is the timer `new` created; `KickTimer` owns it
        // and only this drop deletes it.
        unsafe { libc::timer_delete(self.0) };
    }
}

/// An interrupt line raised by vm-superio (serial, i8042 reset).
#[derive(Clone, Default)]
struct Line(Rc<Cell<bool>>);

impl Trigger for Line {
    type E = std::convert::Infallible;
    fn trigger(&self) -> Result<(), Self::E> {
        self.0.set(true);
        Ok(())
    }
}

impl Line {
    fn take(&self) -> bool {
        self.0.replace(false)
    }
}

/// The serial port's output: stdout, watched for `--mark`.
struct Console {
    out: std::io::Stdout,
    mark: Vec<u8>,
    /// The last `mark.len()` bytes written.
    seen: VecDeque<u8>,
    /// When the mark was first seen (monotonic ns).
    mark_at: Rc<Cell<Option<u64>>>,
}

impl Write for Console {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if !self.mark.is_empty() && self.mark_at.get().is_none() {
            for &b in buf {
                if self.seen.len() == self.mark.len() {
                    self.seen.pop_front();
                }
                self.seen.push_back(b);
                if self.seen.iter().eq(self.mark.iter()) {
                    self.mark_at.set(Some(now_ns()));
                    break;
                }
            }
        }
        // Unbuffered: a prompt without a newline shows at once.
        self.out.write_all(buf)?;
        self.out.flush()?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Exits and injections by kind, for the report.
#[derive(Default, Debug)]
struct Counts {
    io: u64,
    mmio: u64,
    hlt: u64,
    irq_window: u64,
    intr: u64,
    irqs: [u64; 16],
    injected: u64,
}

/// How the guest ended.
enum End {
    Halted,
    Reset,
    TripleFault,
    Timeout,
    Failed(String),
}

struct Pc {
    pic: Pic,
    pit: Pit,
    cmos: Cmos,
    serial: Serial<Line, vm_superio::serial::NoEvents, Console>,
    serial_irq: Line,
    i8042: I8042Device<Line>,
    reset: Line,
    input: Arc<Mutex<VecDeque<u8>>>,
    counts: Counts,
    verbose: bool,
}

impl Pc {
    fn pulse(&mut self, irq: u8) {
        self.counts.irqs[usize::from(irq)] += 1;
        self.pic.set_irq(irq, true);
        self.pic.set_irq(irq, false);
    }

    /// When the vCPU must next be kicked for IRQ 0. Edges closer together
    /// than [`MIN_TICK_NS`] are coalesced: a guest programming the PIT for
    /// 1.19 MHz must not make the VMM spend its time in timer signals
    /// instead of running it.
    fn next_tick(&self, now: u64) -> Option<u64> {
        self.pit.next_irq0().map(|t| t.max(now + MIN_TICK_NS))
    }

    /// Time and input since the last look: PIT edges, serial bytes.
    fn update(&mut self, now: u64) {
        if self.pit.irq0_rose(now) {
            self.pulse(0);
        }
        let room = self.serial.fifo_capacity();
        if room > 0 {
            let bytes: Vec<u8> = {
                let mut q = self.input.lock().unwrap_or_else(|e| e.into_inner());
                let n = room.min(q.len());
                q.drain(..n).collect()
            };
            if !bytes.is_empty() {
                let _ = self.serial.enqueue_raw_bytes(&bytes);
            }
        }
        if self.serial_irq.take() {
            self.pulse(COM1_IRQ);
        }
    }

    /// One byte lane of a port read; `None` if no device decodes `port`.
    fn read_byte(&mut self, port: u16, now: u64) -> Option<u8> {
        match port {
            p if PIC_PORTS.contains(&p) => self.pic.read(port),
            0x40..=0x43 | pit::PORT_B => self.pit.read(port, now),
            cmos::INDEX | cmos::DATA => {
                // SAFETY: time(NULL) has no preconditions.
                let t = unsafe { libc::time(std::ptr::null_mut()) };
                self.cmos.read(port, DateTime::from_unix(t.max(0) as u64))
            }
            COM1..=0x3ff => Some(self.serial.read((port - COM1) as u8)),
            I8042_DATA | I8042_CMD => Some(self.i8042.read((port - I8042_DATA) as u8)),
            _ => None,
        }
    }

    /// One byte lane of a port write; `false` if no device decodes `port`.
    fn write_byte(&mut self, port: u16, b: u8, now: u64) -> bool {
        match port {
            p if PIC_PORTS.contains(&p) => self.pic.write(port, b),
            0x40..=0x43 | pit::PORT_B => self.pit.write(port, b, now),
            cmos::INDEX | cmos::DATA => self.cmos.write(port, b),
            COM1..=0x3ff => self.serial.write((port - COM1) as u8, b).is_ok(),
            I8042_DATA | I8042_CMD => self.i8042.write((port - I8042_DATA) as u8, b).is_ok(),
            // POST codes and io_delay.
            0x80 => true,
            _ => false,
        }
    }

    /// A port read of `size`-byte elements (more than one for string I/O,
    /// `kvm_run.io.count`): every device here is 8 bits wide, so an
    /// element's byte `i` comes from `port + i`, as the PC's byte lanes
    /// split a wide access; ports nothing decodes float (0xff).
    fn io_in(&mut self, port: u16, size: usize, data: &mut [u8], now: u64) {
        let mut any = false;
        for elem in data.chunks_mut(size.max(1)) {
            for (i, d) in elem.iter_mut().enumerate() {
                let v = self.read_byte(port.wrapping_add(i as u16), now);
                any |= v.is_some();
                *d = v.unwrap_or(0xff);
            }
        }
        if !any && self.verbose {
            eprintln!("rvisor boot: in {port:#x} size {size} (no device)");
        }
    }

    /// A port write, split into byte lanes as [`Pc::io_in`].
    fn io_out(&mut self, port: u16, size: usize, data: &[u8], now: u64) {
        let mut any = false;
        for elem in data.chunks(size.max(1)) {
            for (i, &b) in elem.iter().enumerate() {
                any |= self.write_byte(port.wrapping_add(i as u16), b, now);
            }
        }
        if !any && self.verbose {
            eprintln!("rvisor boot: out {port:#x} data {data:02x?} (no device)");
        }
    }

    /// `kvm_arch_pre_run()` without an in-kernel irqchip: inject the PIC's
    /// vector when the guest can take it, otherwise ask to be told.
    fn pre_run(&mut self, vcpu: &mut VcpuFd) -> Result<(), String> {
        let pending = self.pic.interrupt_pending();
        let run = vcpu.get_kvm_run();
        let ready = run.ready_for_interrupt_injection != 0 && run.if_flag != 0;
        if pending && ready {
            let vector = self.pic.acknowledge();
            let irq = kvm_bindings::kvm_interrupt {
                irq: u32::from(vector),
            };
            // SAFETY: a vCPU fd and a valid kvm_interrupt.
            let r = unsafe { libc::ioctl(vcpu.as_raw_fd(), KVM_INTERRUPT, &irq) };
            if r != 0 {
                return Err(format!(
                    "KVM_INTERRUPT {vector:#x}: {}",
                    std::io::Error::last_os_error()
                ));
            }
            self.counts.injected += 1;
        }
        // One vector per entry: anything (still) pending waits for the
        // window.
        let run = vcpu.get_kvm_run();
        run.request_interrupt_window = u8::from(self.pic.interrupt_pending());
        Ok(())
    }
}

/// The earlier of two optional times.
fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Blocks until `at` or a signal.
fn sleep_until(at: u64) {
    let ts = timespec(at);
    // SAFETY: valid timespec; EINTR is the point.
    unsafe {
        libc::clock_nanosleep(
            libc::CLOCK_MONOTONIC,
            libc::TIMER_ABSTIME,
            &ts,
            std::ptr::null_mut(),
        )
    };
}

/// Boots the kernel; returns the process exit status.
pub(crate) fn run(opts: &Options, boot: &Boot) -> Result<u8, String> {
    let start = now_ns();
    let kernel = std::fs::read(&boot.kernel).map_err(|e| format!("{}: {e}", boot.kernel))?;
    let initrd = match &boot.initrd {
        Some(p) => Some(std::fs::read(p).map_err(|e| format!("{p}: {e}"))?),
        None => None,
    };
    let kvm = machine::open(&opts.device)?;
    // The memory before the VM, so that on every return, early or not,
    // the VM is dropped first (locals drop in reverse order).
    let mem = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), opts.mem as usize)])
        .map_err(|e| format!("guest memory: {e}"))?;
    let host = mem
        .get_host_address(GuestAddress(0))
        .map_err(|e| format!("guest memory: {e}"))?;
    let vm = kvm.create_vm().map_err(|e| format!("KVM_CREATE_VM: {e}"))?;
    let region = kvm_userspace_memory_region {
        slot: 0,
        flags: 0,
        guest_phys_addr: 0,
        memory_size: opts.mem,
        userspace_addr: host as u64,
    };
    // SAFETY: `host` is the start of `mem`, one mapping of `opts.mem`
    // bytes, which outlives the VM: declared before `vm`, it is dropped
    // after it on every return (explicitly so at the end).
    unsafe { vm.set_user_memory_region(region) }
        .map_err(|e| format!("KVM_SET_USER_MEMORY_REGION: {e}"))?;
    // The VM's TSS (unused with unrestricted guest, required by the ABI
    // for real-mode guests on older KVM): below the BIOS area, as QEMU.
    vm.set_tss_address(0xfffb_d000)
        .map_err(|e| format!("KVM_SET_TSS_ADDR: {e}"))?;
    let mut vcpu = vm
        .create_vcpu(0)
        .map_err(|e| format!("KVM_CREATE_VCPU: {e}"))?;
    let mut cpuid = kvm
        .get_supported_cpuid(KVM_MAX_CPUID_ENTRIES)
        .map_err(|e| format!("KVM_GET_SUPPORTED_CPUID: {e}"))?;
    for e in cpuid.as_mut_slice() {
        if e.function == 1 {
            e.edx &= !CPUID1_EDX_APIC;
        }
    }
    vcpu.set_cpuid2(&cpuid)
        .map_err(|e| format!("KVM_SET_CPUID2: {e}"))?;
    let mut sregs = vcpu
        .get_sregs()
        .map_err(|e| format!("KVM_GET_SREGS: {e}"))?;
    let mut regs = vcpu.get_regs().map_err(|e| format!("KVM_GET_REGS: {e}"))?;
    let loaded = linux::load(
        &mem,
        opts.mem,
        &kernel,
        initrd.as_deref(),
        &boot.cmdline,
        &mut sregs,
        &mut regs,
    )?;
    vcpu.set_sregs(&sregs)
        .map_err(|e| format!("KVM_SET_SREGS: {e}"))?;
    vcpu.set_regs(&regs)
        .map_err(|e| format!("KVM_SET_REGS: {e}"))?;
    if opts.verbose {
        eprintln!(
            "rvisor boot: boot protocol {:#x}, entry {:#x}, initrd {:x?}",
            loaded.protocol, loaded.entry, loaded.initrd
        );
    }

    // The kick: handler first, then the timer and the stdin thread.
    KVM_RUN.store(vcpu.get_kvm_run(), Ordering::Relaxed);
    // SAFETY: a zeroed sigaction with a valid handler; no SA_RESTART, so
    // the kick interrupts KVM_RUN and sleeps.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = kick as extern "C" fn(libc::c_int) as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        if libc::sigaction(kick_signal(), &sa, std::ptr::null_mut()) != 0 {
            return Err(format!("sigaction: {}", std::io::Error::last_os_error()));
        }
    }
    let timer = KickTimer::new()?;
    let input = Arc::new(Mutex::new(VecDeque::new()));
    {
        let input = input.clone();
        // SAFETY: pthread_self has no preconditions.
        let me = unsafe { libc::pthread_self() } as usize;
        std::thread::spawn(move || {
            let mut buf = [0u8; 64];
            let mut stdin = std::io::stdin();
            while let Ok(n) = stdin.read(&mut buf) {
                if n == 0 {
                    break;
                }
                input
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(&buf[..n]);
                // SAFETY: the vCPU thread outlives the process's use of
                // this one (the process exits when it returns).
                unsafe { libc::pthread_kill(me as libc::pthread_t, kick_signal()) };
            }
        });
    }

    let mark_at = Rc::new(Cell::new(None));
    let serial_irq = Line::default();
    let reset = Line::default();
    let mut pc = Pc {
        pic: Pic::new(),
        pit: Pit::new(),
        cmos: Cmos::new(),
        serial: Serial::new(
            serial_irq.clone(),
            Console {
                out: std::io::stdout(),
                mark: boot
                    .mark
                    .clone()
                    .map(String::into_bytes)
                    .unwrap_or_default(),
                seen: VecDeque::new(),
                mark_at: mark_at.clone(),
            },
        ),
        serial_irq,
        i8042: I8042Device::new(reset.clone()),
        reset,
        input,
        counts: Counts::default(),
        verbose: opts.verbose,
    };
    let deadline = (boot.timeout > 0)
        .then(|| start.saturating_add(boot.timeout.saturating_mul(1_000_000_000)));

    let end = loop {
        vcpu.set_kvm_immediate_exit(0);
        let now = now_ns();
        if deadline.is_some_and(|d| now >= d) {
            break End::Timeout;
        }
        pc.update(now);
        if pc.reset.take() {
            break End::Reset;
        }
        pc.pre_run(&mut vcpu)?;
        timer.arm(earliest(pc.next_tick(now), deadline));
        let exit = match vcpu.run() {
            Ok(exit) => exit,
            Err(e) if e.errno() == libc::EINTR => {
                pc.counts.intr += 1;
                continue;
            }
            Err(e) => break End::Failed(format!("KVM_RUN: {e}")),
        };
        let now = now_ns();
        match exit {
            VcpuExit::IoIn(port, data) => {
                pc.counts.io += 1;
                pc.io_in(port, io_size(), data, now);
            }
            VcpuExit::IoOut(port, data) => {
                pc.counts.io += 1;
                pc.io_out(port, io_size(), data, now);
            }
            VcpuExit::MmioRead(addr, data) => {
                pc.counts.mmio += 1;
                data.fill(0xff);
                if opts.verbose {
                    eprintln!("rvisor boot: mmio read {addr:#x} (no device)");
                }
            }
            VcpuExit::MmioWrite(addr, _) => {
                pc.counts.mmio += 1;
                if opts.verbose {
                    eprintln!("rvisor boot: mmio write {addr:#x} (no device)");
                }
            }
            VcpuExit::IrqWindowOpen => pc.counts.irq_window += 1,
            VcpuExit::Intr => pc.counts.intr += 1,
            VcpuExit::Hlt => {
                pc.counts.hlt += 1;
                if vcpu.get_kvm_run().if_flag == 0 {
                    // HLT with interrupts off: nothing can wake it (no NMI
                    // source): Linux's halt and power-off without ACPI.
                    break End::Halted;
                }
                // Wait for an interrupt: the PIT's next edge, input, or
                // the deadline.
                loop {
                    let now = now_ns();
                    pc.update(now);
                    if pc.pic.interrupt_pending() || deadline.is_some_and(|d| now >= d) {
                        break;
                    }
                    // Input kicks the sleep short. With no timer edge
                    // ahead, wake every 100 ms anyway: a kick that came
                    // between the look and the sleep is late by at most
                    // that.
                    let wake = pc.next_tick(now).unwrap_or(now + 100_000_000);
                    sleep_until(earliest(Some(wake), deadline).unwrap_or(wake));
                }
            }
            VcpuExit::Shutdown => break End::TripleFault,
            VcpuExit::FailEntry(reason, cpu) => {
                break End::Failed(format!(
                    "VM entry failed on CPU {cpu}: hardware reason {reason:#x}"
                ))
            }
            VcpuExit::InternalError => {
                let run = vcpu.get_kvm_run();
                // SAFETY: the exit reason says `internal` is the member.
                let ie = unsafe { run.__bindgen_anon_1.internal };
                break End::Failed(format!(
                    "internal error, suberror {} data {:x?}",
                    ie.suberror,
                    &ie.data[..(ie.ndata as usize).min(ie.data.len())]
                ));
            }
            other => break End::Failed(format!("unexpected exit {other:?}")),
        }
    };
    timer.arm(None);
    KVM_RUN.store(std::ptr::null_mut(), Ordering::Relaxed);
    let _ = std::io::stdout().flush();
    let rip = vcpu.get_regs().map(|r| r.rip).unwrap_or(0);
    let secs = (now_ns() - start) as f64 / 1e9;
    let (what, status) = match &end {
        End::Halted => ("guest halted".to_string(), 0),
        End::Reset => ("guest reset (i8042)".to_string(), 0),
        End::TripleFault => ("guest triple-faulted".to_string(), 2),
        End::Timeout => (
            format!(
                "no end by --timeout {} (the guest is wedged or slow)",
                boot.timeout
            ),
            124,
        ),
        End::Failed(e) => (e.clone(), 3),
    };
    let c = &pc.counts;
    eprintln!(
        "rvisor boot: {what} after {secs:.1} s on {}, rip {rip:#x}; exits: io {}, mmio {}, hlt {}, irq-window {}, intr {}; {} interrupts injected, irq0 {} irq4 {}",
        opts.device, c.io, c.mmio, c.hlt, c.irq_window, c.intr, c.injected, c.irqs[0], c.irqs[4]
    );
    if let Some(m) = &boot.mark {
        match mark_at.get() {
            Some(t) => eprintln!(
                "rvisor boot: mark {m:?} at {:.3} s",
                (t - start) as f64 / 1e9
            ),
            None => eprintln!("rvisor boot: mark {m:?} never seen"),
        }
    }
    drop(vcpu);
    drop(vm);
    drop(mem);
    Ok(status)
}
