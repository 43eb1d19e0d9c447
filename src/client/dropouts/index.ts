// Fault injection for simulations: which virtual clients leave which step of which round, from a seed.
export { dropoutSchedule, type DropoutSchedule, type DropoutScheduleOptions, type DropoutStep, type LeaveAt, type RoundDropouts } from './dropoutSchedule.js';
