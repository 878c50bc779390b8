// Package deploy is gantry's rollout engine: it takes a plan (stages →
// waves → regions) and a version through CloudFormation, safely and
// resumably. It talks to AWS only through the Backend, Region, Lock, Gate,
// Approver and Clock interfaces defined here; package deploytest has
// in-memory fakes of them, and the real backend lives beside the commands.
//
// # The step machine
//
// Engine.Run first renders and hashes every region of the plan, so that a
// descriptor that cannot render fails before any lock is taken (Run returns
// an error: exit 2). Then, stage by stage in file order:
//
//	stage:  approval ──no──▶ every region held (exit 3), later stages pending
//	          │yes
//	        lock ──refused──▶ every region failed, the holder in the error
//	          │
//	        waves in order ──▶ release the lock (always, also when held or failed)
//
//	wave:   regions in parallel, at most MaxParallel at a time
//	        (slots are taken in listed order; a region waiting for its gate
//	        gives its slot back) ──▶ bake ──▶ next wave, unless stopped
//
//	region: Current ──tags match, stack complete──▶ unchanged (no gate, no Apply)
//	          │
//	        halt flag ──on or error──▶ held; the rollout stops
//	          │
//	        gate flag ──closed or error──▶ held, or with --gate-wait poll
//	          │                             (GatePoll, or at once on a flag
//	          │open                          change) until open or timed out
//	        data stack Apply ─┐
//	        app stack Apply ──┴─error──▶ failed; the rollout stops
//	          │
//	        SaveDeployment ──▶ deployed (awaiting the wave's bake)
//
//	bake:   for the wave's Bake (or --bake, noted loudly) every BakePoll:
//	        halt flag ──on──▶ bake ends, regions stay deployed with a note,
//	                          the rollout is held
//	        alarms of each region ──any in ALARM──▶ restore that region's
//	                          Previous deployment (rolled-back; failed when
//	                          there is none), the others keep baking, the
//	                          rollout fails
//
// Stopping: a failure, a halt, an approval or gate hold, or a cancelled
// context stops the rollout. No region starts after a stop; regions in
// flight (including their wave's bake) finish. Regions not started are
// pending, or held when the halt flag stopped them within their wave.
// Every region of the plan is in the Result exactly once.
//
// Outcome: failed (exit 1) when any region failed or was rolled back, or
// the run was interrupted; else held (exit 3) when any region was held or
// the halt flag stopped the rollout; else succeeded (exit 0).
//
// Resume is a rerun: the app stack's gantry:version and gantry:hash tags
// (Hash) say whether a region is done, so a rerun after a crash, a hold or a
// fix redeploys only what is not.
//
// The engine journals every step and keeps the stage's rollout record
// through the stage's Lock, and reports progress to a rollout.Observer.
//
// Beside Run, the engine has Preview (what `gantry plan` shows: each
// region's change sets made, read and deleted through Region.Preview, the
// same path a deploy's change sets take) and Rollback (one region back on a
// recorded deployment, under the stage's lock, journaled with the same
// writer). The commands are wiring and output around these three.
package deploy
